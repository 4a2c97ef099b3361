"""Every kind of map opened in headless Chromium with the network off (Chrome DevTools Protocol).

Checked per page: no request leaves the page (only file:/data: URLs), no failed request, no console
error or uncaught exception, the expected number of drawn units (``path.leaflet-interactive``), the
legend is there, and a screenshot is saved and is not blank.  The escaping case checks that a unit
named ``<script>…</script>`` and an ``<img onerror>`` title render as text.

The DevTools client is a few lines of standard-library WebSocket (RFC 6455) code: no new dependency.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geo.viz as gv
from geo.viz.png import BASE_FLAGS, OFFLINE_FLAGS

pytestmark = pytest.mark.browser

EVIL_NAME = "<script>document.title='pwned-name'</script>"
EVIL_TITLE = "<img src=x onerror=\"document.title='pwned-title'\">"


class _WebSocket:
    """Minimal WebSocket client: text frames, client masking, fragmented messages."""

    def __init__(self, url: str, timeout: float = 30):
        assert url.startswith("ws://")
        hostport, _, path = url[5:].partition("/")
        host, _, port = hostport.partition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            head += chunk
        assert head.split(b"\r\n", 1)[0].split()[1] == b"101", head

    def _read(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("DevTools connection closed")
            buf += chunk
        return buf

    def send(self, text: str) -> None:
        data = text.encode()
        header = bytes([0x81])
        n = len(data)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + masked)

    def recv(self) -> str:
        parts = []
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the WebSocket")
            if opcode in (0x9, 0xA):  # ping/pong: not sent by DevTools in practice
                continue
            parts.append(payload)
            if b0 & 0x80:
                return b"".join(parts).decode()


class Browser:
    """Headless Chromium with the network switched off, driven over the DevTools protocol."""

    def __init__(self, exe: str, profile: Path):
        self.proc = subprocess.Popen(
            [exe, *BASE_FLAGS, *OFFLINE_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "--window-size=1000,700", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.time() + 30
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("Chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self.ws = _WebSocket(f"ws://127.0.0.1:{port}{path}")
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.time() + timeout
        while time.time() < deadline:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)
        raise TimeoutError(method)

    def wait_event(self, method: str, session: str, timeout: float = 30) -> dict:
        deadline = time.time() + timeout
        for ev in self.events:
            if ev.get("method") == method and ev.get("sessionId") == session:
                return ev
        while time.time() < deadline:
            ev = json.loads(self.ws.recv())
            self.events.append(ev)
            if ev.get("method") == method and ev.get("sessionId") == session:
                return ev
        raise TimeoutError(method)

    def open(self, url: str, width: int = 1000, height: int = 700) -> "Page":
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=session)
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        self.call("Page.navigate", {"url": url}, session=session)
        self.wait_event("Page.loadEventFired", session)
        return Page(self, session, target)

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:  # the browser may close the socket before answering
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Page:
    def __init__(self, browser: Browser, session: str, target: str):
        self.browser, self.session, self.target = browser, session, target

    def eval(self, expression: str):
        res = self.browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                     "awaitPromise": True}, session=self.session)
        if "exceptionDetails" in res:
            raise RuntimeError(res["exceptionDetails"])
        return res["result"].get("value")

    def settle(self, selector: str = "path.leaflet-interactive", timeout: float = 15) -> int:
        """Wait until the number of elements matching ``selector`` stops changing."""
        last, stable, deadline = -1, 0, time.time() + timeout
        while time.time() < deadline:
            n = self.eval(f"document.querySelectorAll({json.dumps(selector)}).length")
            stable = stable + 1 if n == last else 0
            if stable >= 2:
                return n
            last = n
            time.sleep(0.1)
        return last

    def problems(self) -> list[str]:
        out = []
        for ev in self.browser.events:
            if ev.get("sessionId") != self.session:
                continue
            method, p = ev.get("method"), ev.get("params", {})
            if method == "Network.requestWillBeSent":
                url = p["request"]["url"]
                if not url.startswith(("file:", "data:", "about:")):
                    out.append(f"request to {url}")
            elif method == "Network.loadingFailed":
                out.append(f"failed request: {p.get('errorText')}")
            elif method == "Runtime.exceptionThrown":
                details = p["exceptionDetails"]
                out.append(f"exception: {details.get('text')} {details.get('exception', {}).get('description', '')}")
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(f"console.{p['type']}: {[a.get('value') for a in p.get('args', [])]}")
            elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(f"log error: {p['entry'].get('text')} {p['entry'].get('url', '')}")
            elif method == "Page.javascriptDialogOpening":
                out.append(f"dialog: {p.get('message')}")
        return out

    def screenshot(self, path: Path) -> float:
        """Save a PNG; return the share of pixels that are not the page background (white)."""
        data = self.browser.call("Page.captureScreenshot", {"format": "png"}, session=self.session)["data"]
        path.write_bytes(base64.b64decode(data))
        # count non-white pixels by decoding the PNG in the page itself (no imaging library needed)
        return self.eval(
            "new Promise(function (ok) { var im = new Image(); im.onload = function () {"
            " var c = document.createElement('canvas'); c.width = im.width; c.height = im.height;"
            " var g = c.getContext('2d'); g.drawImage(im, 0, 0); var d = g.getImageData(0, 0, c.width, c.height).data;"
            " var n = 0; for (var i = 0; i < d.length; i += 4) { if (d[i] < 245 || d[i+1] < 245 || d[i+2] < 245) n++; }"
            " ok(n / (d.length / 4)); }; im.src = 'data:image/png;base64," + data + "'; })"
        )

    def close(self):
        self.browser.call("Target.closeTarget", {"targetId": self.target})


@pytest.fixture(scope="module")
def browser(chromium, tmp_path_factory):
    b = Browser(chromium, tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def maps(china):
    """One map of each kind on the embedded prefectures (built once)."""
    from geo import radiation, zones

    rng = np.random.default_rng(0)
    values = pd.Series(rng.lognormal(9, 0.8, len(china)), index=china.index, name="gdp_pc")
    values.iloc[:4] = np.nan
    lisa = pd.DataFrame(
        {"Ii": rng.normal(size=len(china)), "p_sim": rng.uniform(0, 0.1, len(china)), "quadrant": rng.integers(1, 5, len(china))},
        index=china.index,
    )
    effect = pd.Series(rng.normal(size=len(china)), index=china.index, name="indirect effect")
    z = zones.registry("new-zone").head(5)
    asg = radiation.assign_bands(china, zones=z, bands=(100, 200))
    rings = radiation.rings(z, bands=(100, 200))
    table = pd.DataFrame({"adcode": np.tile(china.index, 3), "year": np.repeat([2018, 2019, 2020], len(china)),
                          "gdp": rng.lognormal(size=3 * len(china))})
    n = len(china)
    return {
        # kind: (map, expected interactive paths, expected legend rows)
        "choropleth": (gv.choropleth(china, values, units_label="yuan"), n, 6),
        "lisa": (gv.lisa_map(china, lisa, correction="fdr"), n, 5),
        "spillover": (gv.spillover_map(china, effect, zones=list(z["host_adcode"])), n + 5, None),
        "radiation": (gv.radiation_map(china, values=asg, zones=z, rings=rings, corridor=radiation.corridor()), None, None),
        "years": (gv.choropleth_years(china, table, "gdp"), n, 5),
    }


@pytest.mark.parametrize("kind", ["choropleth", "lisa", "spillover", "radiation", "years"])
def test_map_opens_offline(browser, maps, kind, tmp_path):
    result, n_paths, n_rows = maps[kind]
    page_file = tmp_path / f"{kind}.html"
    result.save(page_file)
    page = browser.open(page_file.as_uri())
    try:
        drawn = page.settle()
        units = page.eval("document.querySelectorAll('path.leaflet-interactive.geo-unit').length")
        assert units == result.n_units == 337
        if n_paths is not None:
            assert drawn == n_paths
        else:  # radiation: units + ring polygons + the corridor line + corridor nodes + zone markers
            extra = page.eval(
                "['geo-ring','geo-corridor','geo-node','geo-zone'].map(function (c) {"
                " return document.querySelectorAll('path.leaflet-interactive.' + c).length; })"
            )
            assert extra[0] == 2 and extra[1] == 1 and extra[2] >= 2 and extra[3] == 5
            assert drawn == units + sum(extra)
        legend = page.eval("document.querySelector('.geo-legend') && document.querySelector('.geo-legend').innerText")
        assert legend, "no legend"
        rows = page.eval("document.querySelectorAll('.geo-legend .geo-class').length")
        if n_rows is not None:
            assert rows == n_rows
        if kind == "choropleth":
            assert "no data" in legend and "quantiles" in legend and "yuan" in legend
        if kind == "lisa":
            assert "High-High" in legend and "Benjamini-Hochberg" in legend
        if kind == "years":
            radios = page.eval("document.querySelectorAll('.leaflet-control-layers-base input[type=radio]').length")
            assert radios == 3
            # switching the year redraws the units
            page.eval("document.querySelectorAll('.leaflet-control-layers-base input[type=radio]')[0].click()")
            assert page.settle() == 337
            # the year slider follows, and moves through the years itself
            assert page.eval("document.querySelector('.geo-slider .geo-year').textContent") == "2018"
            page.eval("var s = document.querySelector('.geo-slider input'); s.value = 1;"
                      " s.dispatchEvent(new Event('input'))")
            assert page.settle() == 337
            assert page.eval("document.querySelector('.geo-slider .geo-year').textContent") == "2019"
            assert page.eval("document.querySelectorAll('.leaflet-control-layers-base input[type=radio]')[1].checked")
        share = page.screenshot(tmp_path / f"{kind}.png")
        assert (tmp_path / f"{kind}.png").stat().st_size > 10_000
        assert share > 0.05, f"screenshot looks blank ({share:.3f} of pixels drawn)"
        assert page.problems() == []
    finally:
        page.close()


def test_user_text_renders_as_text(browser, columbus, tmp_path):
    units = columbus.set_crs("EPSG:4326", allow_override=True).copy()
    units["name"] = units.index.astype(str)
    units.iloc[0, units.columns.get_loc("name")] = EVIL_NAME
    values = units["CRIME"].rename(EVIL_TITLE)
    f = tmp_path / "evil.html"
    gv.choropleth(units, values, title=EVIL_TITLE, units_label="<b>u</b>").save(f)
    page = browser.open(f.as_uri())
    try:
        page.settle()
        assert page.eval("document.title") == ""  # no injected script or handler ran
        assert page.eval("document.querySelector('.geo-title').innerText") == EVIL_TITLE
        assert page.eval("document.querySelectorAll('.leaflet-container img, .leaflet-container b').length") == 0
        assert EVIL_TITLE in page.eval("document.querySelector('.geo-legend h4').innerText")
        # open the first unit's tooltip and read it back as text
        page.eval(
            "(function () { for (var k in window) { if (k.indexOf('geo_units_') === 0) {"
            " var l = window[k].getLayers()[0]; l.openTooltip(l.getCenter()); return true; } } })()"
        )
        tip = page.eval("document.querySelector('.geo-tip').innerText")
        assert EVIL_NAME in tip
        assert page.eval("document.querySelectorAll('.geo-tip script').length") == 0
        assert page.eval("document.title") == ""
        assert page.problems() == []
    finally:
        page.close()
    # a layer control (spillover with zones) shows the variable's name as text too
    f2 = tmp_path / "evil_control.html"
    gv.spillover_map(units, values.rename(EVIL_NAME + "{{ 7*7 }}"), zones=[units.index[1]]).save(f2)
    page = browser.open(f2.as_uri())
    try:
        page.settle()
        control = page.eval("document.querySelector('.leaflet-control-layers').innerText")
        assert EVIL_NAME + "{{ 7*7 }}" in control
        assert page.eval("document.title") == "" and page.problems() == []
    finally:
        page.close()


def test_png_export(maps, tmp_path):
    result = maps["choropleth"][0]
    out = result.png(tmp_path / "map.png", width=800, height=600)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (800, 600)


def test_report_with_maps_opens_offline(browser, maps, tmp_path):
    from geo.report import build_report

    page_html = build_report(
        [("Choropleth", maps["choropleth"][0]), ("LISA", maps["lisa"][0]), ("Table", pd.DataFrame({"a": [1, 2]}))],
        title="Report", provenance={"synthetic": True}, commands=["geo map choropleth …"], generated="fixed",
    )
    f = tmp_path / "report.html"
    f.write_text(page_html, encoding="utf-8")
    page = browser.open(f.as_uri(), height=1400)
    try:
        # the maps run sandboxed (allow-scripts, opaque origin): the report cannot reach into them...
        assert page.eval("Array.from(document.querySelectorAll('iframe')).map(function (fr) {"
                         " return fr.contentDocument === null; })") == [True, True]
        # ...and, in an opaque origin, each runs out of process: attach to the frames and count there
        page.browser.call("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": False,
                                                   "flatten": True}, session=page.session)
        counts = []
        deadline = time.time() + 20
        while time.time() < deadline:
            kids = [ev["params"]["sessionId"] for ev in page.browser.events
                    if ev.get("sessionId") == page.session and ev.get("method") == "Target.attachedToTarget"
                    and ev["params"]["targetInfo"]["type"] == "iframe"]
            counts = []
            for kid in kids:
                res = page.browser.call("Runtime.evaluate", {
                    "expression": "document.querySelectorAll('path.leaflet-interactive').length",
                    "returnByValue": True}, session=kid)
                counts.append(res["result"].get("value"))
            if sorted(c for c in counts if c) == [337, 337]:
                break
            time.sleep(0.2)
            page.eval("1")  # let events arrive
        assert sorted(c for c in counts if c) == [337, 337]
        assert "Synthetic data" in page.eval("document.querySelector('#provenance').innerText")
        assert page.problems() == []
    finally:
        page.close()


def test_small_multiples_are_synchronised(browser, china, tmp_path):
    rng = np.random.default_rng(3)
    table = pd.DataFrame({"adcode": np.tile(china.index, 3), "year": np.repeat([2018, 2019, 2020], len(china)),
                          "gdp": rng.lognormal(size=3 * len(china))})
    result = gv.small_multiples(china, table, "gdp")
    assert result.legend["years"] == [2018, 2019, 2020]
    page_file = tmp_path / "multiples.html"
    result.save(page_file)
    assert len(page_file.read_bytes()) <= 1_000_000
    page = browser.open(page_file.as_uri(), width=1200, height=900)
    try:
        assert page.settle() == 3 * 337
        assert page.eval("document.querySelectorAll('.geo-panel').length") == 3
        page.eval("window.geoMaps[0].setView([31.2, 121.5], 7, {animate: false}); 0")
        time.sleep(0.3)
        views = page.eval("window.geoMaps.map(function (m) { var c = m.getCenter(); "
                          "return [Math.round(c.lat * 10) / 10, Math.round(c.lng * 10) / 10, m.getZoom()]; })")
        assert views == [[31.2, 121.5, 7]] * 3
        assert page.problems() == []
    finally:
        page.close()

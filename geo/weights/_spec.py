"""Spec strings of spatial weights (``queen``, ``knn:6``, ``idw:2:300km``, ``queen:order2``, a file) and the
option values the builders accept; :func:`parse_spec` and :class:`Spec` round-trip (see :mod:`geo.weights`)."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from geo.errors import OptionError

KINDS = ("queen", "rook", "knn", "distance", "idw", "kernel", "economic", "file")
#: kernel name -> function of u = d / h on [0, 1) (libpysal's constants)
KERNELS = ("triangular", "uniform", "quadratic", "quartic", "gaussian")
_KERNEL_ALIASES = {"epanechnikov": "quadratic", "bisquare": "quartic"}
TRANSFORMS = ("r", "b", "v", "o")
METRICS = ("great-circle", "projected")
DEFAULT_ISLANDS = "link"
FILE_SUFFIXES = (".gal", ".gwt", ".parquet")
_BINARY_KINDS = ("queen", "rook", "knn", "distance")



# --------------------------------------------------------------------------- spec strings


@dataclass(frozen=True)
class Spec:
    """A parsed weights spec; ``str(spec)`` gives the canonical spec string."""

    kind: str
    k: int | None = None
    km: float | None = None
    power: float | None = None
    kernel: str | None = None
    variable: str | None = None
    base: "Spec | None" = None
    order: int = 1
    cumulative: bool = False
    path: str | None = None

    def __str__(self) -> str:
        if self.kind == "file":
            return str(self.path)
        if self.kind in ("queen", "rook"):
            text = self.kind
        elif self.kind == "knn":
            text = f"knn:{self.k}"
        elif self.kind == "distance":
            text = f"distance:{_fmt_km(self.km)}"
        elif self.kind == "idw":
            text = f"idw:{_fmt_num(self.power)}" + (f":{_fmt_km(self.km)}" if self.km is not None else "")
        elif self.kind == "kernel":
            text = f"kernel:{self.kernel}:" + (str(self.k) if self.k is not None else _fmt_km(self.km))
        else:  # economic
            return f"economic:{self.variable}:{self.base}"
        if self.order > 1:
            text += f":{'upto' if self.cumulative else 'order'}{self.order}"
        return text


def _fmt_num(x: float) -> str:
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _fmt_km(x: float) -> str:
    return _fmt_num(x) + "km"


_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_DIST_RE = re.compile(rf"^({_NUM})\s*(km|m)$", re.IGNORECASE)
_NUM_RE = re.compile(rf"^{_NUM}$")
_INT_RE = re.compile(r"^\d+$")
_ORDER_RE = re.compile(r"^(order|upto)(\d+)$", re.IGNORECASE)

_SPEC_HELP = (
    "use queen, rook, knn:6, distance:150km, idw:2, idw:2:300km, kernel:triangular:8, "
    "economic:VAR, queen:order2, or a .gal/.gwt/.parquet file"
)


def _bad(text, why: str) -> OptionError:
    return OptionError(f"weights spec {text!r}: {why}; {_SPEC_HELP}")


def _parse_distance(text, token) -> float:
    m = _DIST_RE.match(token.strip())
    if not m:
        raise _bad(text, f"{token!r} is not a distance such as 150km or 5000m")
    value = float(m.group(1))
    if m.group(2).lower() == "m":
        value /= 1000.0
    if not math.isfinite(value) or value <= 0:
        raise _bad(text, f"distance {token!r} must be positive")
    return value


def _parse_int(text, token, what) -> int:
    if not _INT_RE.match(token.strip()):
        raise _bad(text, f"{what} {token!r} is not a whole number")
    value = int(token)
    if value < 1:
        raise _bad(text, f"{what} must be at least 1")
    return value


def is_file_spec(text) -> bool:
    """True when ``text`` names a weights file (by its extension)."""
    return isinstance(text, (str, os.PathLike)) and Path(str(text)).suffix.lower() in FILE_SUFFIXES


def parse_spec(text) -> Spec:
    """Parse a spec string (see the module docstring); OptionError names what is wrong."""
    if isinstance(text, Spec):
        return text
    if not isinstance(text, (str, os.PathLike)):
        raise OptionError(f"weights spec must be a string, got {type(text).__name__}; {_SPEC_HELP}")
    raw = str(text)
    if is_file_spec(raw):
        return Spec(kind="file", path=raw)
    s = raw.strip()
    if not s:
        raise _bad(raw, "empty spec")
    tokens = [t.strip() for t in s.split(":")]
    kind = tokens[0].lower()
    if kind == "economic":
        if len(tokens) < 2 or not tokens[1]:
            raise _bad(raw, "economic weights need a variable, e.g. economic:gdp_pc")
        variable = tokens[1]
        if any(ch.isspace() for ch in variable):
            raise _bad(raw, f"variable name {variable!r} contains spaces")
        base = parse_spec(":".join(tokens[2:])) if len(tokens) > 2 else Spec(kind="queen")
        if base.kind in ("economic", "file"):
            raise _bad(raw, f"the base of economic weights cannot be {base.kind!r}")
        return Spec(kind="economic", variable=variable, base=base)
    order, cumulative = 1, False
    if len(tokens) > 1:
        m = _ORDER_RE.match(tokens[-1])
        if m:
            order = int(m.group(2))
            cumulative = m.group(1).lower() == "upto"
            if order < 2:
                raise _bad(raw, f"{tokens[-1]!r}: higher order must be 2 or more")
            if kind not in _BINARY_KINDS:
                raise _bad(raw, f"higher orders apply to {', '.join(_BINARY_KINDS)}, not {kind!r}")
            tokens = tokens[:-1]
    args = tokens[1:]
    if any(a == "" for a in args):
        raise _bad(raw, "empty field between ':'")
    if kind in ("queen", "rook"):
        if args:
            raise _bad(raw, f"{kind} takes no parameters")
        spec = Spec(kind=kind)
    elif kind == "knn":
        if len(args) != 1:
            raise _bad(raw, "knn needs the number of neighbours, e.g. knn:6")
        spec = Spec(kind="knn", k=_parse_int(raw, args[0], "k"))
    elif kind == "distance":
        if len(args) != 1:
            raise _bad(raw, "distance needs a threshold, e.g. distance:150km")
        spec = Spec(kind="distance", km=_parse_distance(raw, args[0]))
    elif kind == "idw":
        if len(args) not in (1, 2):
            raise _bad(raw, "idw needs a power and optionally a cutoff, e.g. idw:2 or idw:2:300km")
        if not _NUM_RE.match(args[0]):
            raise _bad(raw, f"power {args[0]!r} is not a number")
        power = float(args[0])
        if not math.isfinite(power) or power <= 0:
            raise _bad(raw, f"power {args[0]!r} must be positive")
        km = _parse_distance(raw, args[1]) if len(args) == 2 else None
        spec = Spec(kind="idw", power=power, km=km)
    elif kind == "kernel":
        if len(args) != 2:
            raise _bad(raw, "kernel needs a name and a bandwidth, e.g. kernel:triangular:8 or kernel:gaussian:150km")
        name = _KERNEL_ALIASES.get(args[0].lower(), args[0].lower())
        if name not in KERNELS:
            raise _bad(raw, f"unknown kernel {args[0]!r} (kernels: {', '.join(KERNELS)})")
        if _INT_RE.match(args[1]):
            spec = Spec(kind="kernel", kernel=name, k=_parse_int(raw, args[1], "k"))
        else:
            spec = Spec(kind="kernel", kernel=name, km=_parse_distance(raw, args[1]))
    else:
        raise _bad(raw, f"unknown kind {tokens[0]!r}")
    if order > 1:
        spec = Spec(**{**spec.__dict__, "order": order, "cumulative": cumulative})
    return spec


def _parse_islands(policy: str) -> tuple[str, int]:
    text = str(policy).strip().lower()
    if text in ("keep", "drop", "error"):
        return text, 0
    m = re.match(r"^link(?::(\d+))?$", text)
    if m:
        k = int(m.group(1) or 1)
        if k >= 1:
            return "link", k
    raise OptionError(f"islands={policy!r} is not one of 'link', 'link:K' (K >= 1), 'keep', 'drop', 'error'")

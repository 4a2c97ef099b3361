"""The per-user cache of the cleaned embedded boundaries: same geometry, keyed, atomic, self-repairing."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo import boundaries


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO_CACHE_DIR", str(tmp_path / "cache"))
    boundaries._embedded_all.cache_clear()
    yield tmp_path / "cache"
    boundaries._embedded_all.cache_clear()


def _built(monkeypatch):
    """Count the calls of the expensive cleaning step."""
    calls = []
    real = boundaries._clean_embedded

    def counting(src):
        calls.append(src)
        return real(src)

    monkeypatch.setattr(boundaries, "_clean_embedded", counting)
    return calls


def test_cache_dir_follows_the_override(cache):
    assert boundaries.cache_dir() == cache


def test_first_call_builds_and_writes_then_later_calls_read(cache, monkeypatch):
    calls = _built(monkeypatch)
    codes1, geoms1 = boundaries._cleaned_geometries()
    assert len(calls) == 1
    files = list(cache.glob("boundaries-*.npz"))
    assert len(files) == 1
    name = files[0].name
    assert boundaries.SOURCE_SHA256[:16] in name and "geo" in name
    assert not list(cache.glob("*.tmp"))  # written atomically: no temporary file left
    codes2, geoms2 = boundaries._cleaned_geometries()
    assert len(calls) == 1  # read from the cache, not rebuilt
    np.testing.assert_array_equal(codes1, codes2)
    # the cached geometry is exactly the cleaned one (WKB keeps every double)
    assert shapely.equals_exact(geoms1, geoms2, tolerance=0).all()
    assert shapely.coverage_is_valid(geoms2)


def test_cached_boundaries_equal_a_fresh_build(cache):
    first = boundaries.china(scope="all")  # builds and writes
    boundaries._embedded_all.cache_clear()
    second = boundaries.china(scope="all")  # reads the file
    assert list(first.index) == list(second.index)
    assert (first.drop(columns="geometry") == second.drop(columns="geometry")).all().all()
    assert shapely.equals_exact(first.geometry.values, second.geometry.values, tolerance=0).all()


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip_payload", "empty"])
def test_a_corrupt_cache_is_rebuilt(cache, monkeypatch, damage):
    boundaries._cleaned_geometries()
    (path,) = cache.glob("boundaries-*.npz")
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a cache" * 100)
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # change bytes inside the stored WKB (the file stays a readable archive)
        import io

        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        wkb = arrays["wkb"].copy()
        wkb[len(wkb) // 2 : len(wkb) // 2 + 8] ^= 0x55
        arrays["wkb"] = wkb
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)
    calls = _built(monkeypatch)
    codes, geoms = boundaries._cleaned_geometries()
    assert len(calls) == 1  # rebuilt
    assert len(codes) == 372 and shapely.coverage_is_valid(geoms)
    # and the rewritten cache is good again
    calls.clear()
    boundaries._cleaned_geometries()
    assert calls == []


def test_a_changed_key_is_a_miss(cache, monkeypatch):
    boundaries._cleaned_geometries()
    calls = _built(monkeypatch)
    monkeypatch.setattr(boundaries, "CLEANING_VERSION", boundaries.CLEANING_VERSION + 1)
    boundaries._cleaned_geometries()
    assert len(calls) == 1
    assert len(list(cache.glob("boundaries-*.npz"))) == 2  # one file per key
    # a file holding another source's digest under this name is stale, not trusted
    (path,) = [p for p in cache.glob("boundaries-*.npz") if p.name.endswith(f"c{boundaries.CLEANING_VERSION}.npz")]
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["source_sha256"] = np.asarray("0" * 64)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    boundaries._cleaned_geometries()
    assert len(calls) == 2


def test_an_unwritable_cache_still_gives_the_boundaries(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("GEO_CACHE_DIR", str(blocker / "sub"))  # cannot be created: a file is in the way
    codes, geoms = boundaries._cleaned_geometries()
    assert len(codes) == 372

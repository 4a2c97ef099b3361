"""Shared fixtures and tolerances.

Peer checks (R spdep/spatialreg) and browser checks (headless Chromium) need
system programs that ``tests/run.sh`` installs.  When ``GEO_REQUIRE_PEERS=1``
(set by ``tests/run.sh`` and so by CI) a missing program is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil

import pytest

#: closed-form statistics vs a peer implementation (relative)
CLOSED_FORM_RTOL = 1e-8
#: maximum-likelihood estimates vs a peer implementation (relative)
ML_RTOL = 1e-5

REQUIRE_PEERS = os.environ.get("GEO_REQUIRE_PEERS") == "1"

# the cleaned embedded boundaries are cached per user (geo.boundaries.cache_dir); tests use a fresh
# folder of their own (inherited by the CLI subprocesses they start) unless one is given
if not os.environ.get("GEO_CACHE_DIR"):
    import tempfile

    os.environ["GEO_CACHE_DIR"] = tempfile.mkdtemp(prefix="geo-test-cache-")


def _need_program(name: str, what: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} not found: {what} (tests/run.sh installs it)"
        if REQUIRE_PEERS:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def rscript() -> str:
    """Path of Rscript with spdep/spatialreg available."""
    return _need_program("Rscript", "R with r-cran-spdep and r-cran-spatialreg")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a headless-capable Chromium."""
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    return _need_program("chromium", "Debian's chromium package")


@pytest.fixture(scope="session")
def china():
    """The embedded prefecture-and-above boundaries (337 units)."""
    from geo import boundaries

    return boundaries.china()


@pytest.fixture(scope="session")
def china_all():
    from geo import boundaries

    return boundaries.china(scope="all")


@pytest.fixture(scope="session")
def columbus():
    """libpysal's Columbus (Anselin 1988) example, shipped inside the libpysal wheel (offline)."""
    import geopandas as gpd
    from libpysal import examples

    gdf = gpd.read_file(examples.get_path("columbus.shp"))
    gdf.index = gdf["POLYID"].astype(str)
    gdf.index.name = "POLYID"
    return gdf


@pytest.fixture(scope="module")
def one_blas_thread():
    """One BLAS thread for modules of many small dense solves (as the ``geo`` command runs): OpenBLAS's
    spinning threads make them several times slower on a shared 2-core machine. Use it with
    ``pytestmark = pytest.mark.usefixtures("one_blas_thread")``."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(1):
        yield

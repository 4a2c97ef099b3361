"""GCJ-02 / BD-09 conversions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import coords
from geo.errors import OptionError


@settings(max_examples=200, deadline=None)
@given(st.floats(73.6, 134.7), st.floats(18.2, 53.5))
def test_gcj02_round_trip_is_exact(lon, lat):
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    wlon, wlat = coords.gcj02_to_wgs84(glon, glat)
    assert abs(wlon - lon) < 1e-8 and abs(wlat - lat) < 1e-8


@settings(max_examples=100, deadline=None)
@given(st.floats(73.6, 134.7), st.floats(18.2, 53.5))
def test_bd09_round_trip(lon, lat):
    blon, blat = coords.gcj02_to_bd09(lon, lat)
    glon, glat = coords.bd09_to_gcj02(blon, blat)
    assert abs(glon - lon) < 1e-8 and abs(glat - lat) < 1e-8


def test_offset_size_in_china_and_none_outside():
    glon, glat = coords.wgs84_to_gcj02(116.3913, 39.9075)
    # the GCJ-02 shift in Beijing is a few hundred metres (~0.006 deg lon, ~0.0013 deg lat)
    assert 0.005 < glon - 116.3913 < 0.007 and 0.0008 < glat - 39.9075 < 0.0018
    lon, lat = coords.to_wgs84(np.array([2.35]), np.array([48.85]), "gcj02")
    assert lon[0] == 2.35 and lat[0] == 48.85


def test_bad_crs():
    with pytest.raises(OptionError, match="crs='mars' is not one of 'wgs84', 'gcj02', 'bd09'"):
        coords.to_wgs84(1, 2, "mars")

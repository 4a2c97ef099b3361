"""Time-varying exposure: hand-built geography with distances computed by hand (pyproj's geodesic forward)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import Point, box

from geo import radiation as rad
from geo.errors import GeoError, ModelError, OptionError

GEOD = Geod(ellps="WGS84")
U0 = (114.0, 30.0)


def _at(az, km):
    lon, lat, _ = GEOD.fwd(U0[0], U0[1], az, km * 1000.0)
    return lon, lat


def _square(lon, lat, h=0.01):
    return box(lon - h, lat - h, lon + h, lat + h)


@pytest.fixture(scope="module")
def toy():
    """Unit U at U0; zone A (2005) 150 km east, hosted by HA; zone B (2015) 80 km north, hosted by HB;
    a far unit F 900 km south (never exposed); a zone C approved in 2030 and one hosted outside the units."""
    a, b = _at(90, 150), _at(0, 80)
    f = _at(180, 900)
    units = gpd.GeoDataFrame(
        {"name": ["U", "HA", "HB", "F"]},
        geometry=[_square(*U0), _square(*a), _square(*b), _square(*f)],
        index=pd.Index(["100001", "100002", "100003", "100004"], name="adcode"),
        crs="EPSG:4326",
    )
    zones = gpd.GeoDataFrame(
        {"name": ["A", "B", "C"], "kind": ["a", "b", "a"], "approval_year": [2005, 2015, 2030],
         "host_adcodes": ["100002", "100003", "100004"]},
        geometry=[Point(*a), Point(*b), Point(*f)], crs="EPSG:4326",
    )
    return units, zones


def test_nearest_exposure_follows_the_approved_zones(toy):
    units, zones = toy
    ex = rad.exposure(units, years=range(2000, 2024), zones=zones, bands=(100, 200))
    t = ex.table.set_index(["id", "year"])
    u = t.loc["100001"]
    assert ex.labels == ("host", "0-100 km", "100-200 km")
    assert (u.loc[2000:2004, ["host", "0-100 km", "100-200 km"]].to_numpy() == 0).all()
    assert (u.loc[2005:2014, "100-200 km"] == 1).all() and (u.loc[2005:2014, "0-100 km"] == 0).all()
    assert (u.loc[2015:2023, "0-100 km"] == 1).all() and (u.loc[2015:2023, "100-200 km"] == 0).all()
    assert u["first_year"].iat[0] == 2005
    ha = t.loc["100002"]
    assert (ha.loc[2005:, "host"] == 1).all() and (ha.loc[:2004, "host"] == 0).all()
    # HA's own zone is not a ring; HB's zone is sqrt-ish 170 km away -> the 100-200 km ring never applies to a host
    assert (ha.loc[2015:, "100-200 km"] == 0).all()
    f = t.loc["100004"]  # hosts C, approved after the panel: never exposed
    assert (f[["host", "0-100 km", "100-200 km"]].to_numpy() == 0).all() and np.isnan(f["first_year"].iat[0])
    assert any("after 2023" in n for n in ex.notes)
    snap = ex.assignment.table
    assert snap.at["100001", "band"] == "0-100 km" and snap.at["100001", "treatment_year"] == 2005


def test_count_exposure_counts_zones_per_ring(toy):
    units, zones = toy
    ex = rad.exposure(units, years=[2004, 2010, 2020], zones=zones, bands=(100, 200), mode="count")
    u = ex.table.set_index(["id", "year"]).loc["100001"]
    assert u.loc[2004, ["0-100 km", "100-200 km"]].tolist() == [0, 0]
    assert u.loc[2010, ["0-100 km", "100-200 km"]].tolist() == [0, 1]
    assert u.loc[2020, ["0-100 km", "100-200 km"]].tolist() == [1, 1]


def test_kinds_are_separate_treatments(toy):
    units, zones = toy
    ex = rad.exposure(units, years=range(2000, 2024), zones=zones, bands=(100, 200), kinds=("a", "b"))
    assert ex.labels == ("a:host", "a:0-100 km", "a:100-200 km", "b:host", "b:0-100 km", "b:100-200 km")
    u = ex.table.set_index(["id", "year"]).loc["100001"]
    assert (u.loc[2005:, "a:100-200 km"] == 1).all()  # still 150 km from A after B opens
    assert (u.loc[2015:, "b:0-100 km"] == 1).all() and (u.loc[:2014, "b:0-100 km"] == 0).all()
    with pytest.raises(OptionError, match="zone kind"):
        rad.exposure(units, years=[2010], zones=zones, kinds=("c",))


def test_zones_hosted_outside_the_units_still_count(toy):
    units, zones = toy
    some = units.drop(index="100002")  # A's host has no data / is not among the units
    ex = rad.exposure(some, years=[2010], zones=zones, bands=(100, 200))
    u = ex.table.set_index("id").loc["100001"]
    assert u["100-200 km"] == 1
    assert any("outside the boundaries" in n for n in ex.notes)


def test_design_unbalanced_and_degenerate(toy):
    units, zones = toy
    ex = rad.exposure(units, years=range(2000, 2024), zones=zones, bands=(100, 200))
    rng = np.random.default_rng(0)
    df = ex.table[["id", "year"]].rename(columns={"id": "adcode"})
    df = df.assign(y=rng.normal(size=len(df)))
    df = df.drop(index=df.index[[3, 30, 31]])
    from geo.radiation.design import design

    d = design(df, "y", ex)
    assert d.used["balanced"] is False and d.used["units"] == 4
    with pytest.raises(ModelError, match="constant"):
        design(df.assign(y=1.0), "y", ex)
    with pytest.raises(GeoError, match="not among the exposure's years"):
        design(pd.concat([df, pd.DataFrame({"adcode": ["100001"], "year": [2030], "y": [0.0]})]), "y", ex)

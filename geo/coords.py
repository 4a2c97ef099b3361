"""Coordinates used by Chinese map services: GCJ-02 and BD-09 to WGS-84.

GCJ-02 ("Mars coordinates", used by Amap/Tencent) offsets WGS-84 by a
published obfuscation polynomial; BD-09 (Baidu) applies a further rotation.
The forward transforms are closed-form; the inverse WGS-84 <- GCJ-02 has no
closed form, so :func:`gcj02_to_wgs84` iterates the forward transform
(fixed-point) until the round trip is below 1e-9 degrees (~0.1 mm), instead of
the one-step approximation many libraries use (error up to ~1-2 m).
Outside mainland China the offsets are zero, as in the services themselves.
Vectorised over numpy arrays; no dependency beyond numpy.
"""

from __future__ import annotations

import numpy as np

from geo.errors import check_choice

__all__ = ["CRS_CHOICES", "wgs84_to_gcj02", "gcj02_to_wgs84", "gcj02_to_bd09", "bd09_to_gcj02", "to_wgs84"]

CRS_CHOICES = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0


def _outside_china(lon, lat):
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _transform_lat(x, y):
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x, y):
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _offset(lon, lat):
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = _outside_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _arrays(lon, lat):
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def wgs84_to_gcj02(lon, lat):
    lon, lat = _arrays(lon, lat)
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def _invert(forward, lon, lat, start_lon, start_lat, tol: float, max_iter: int):
    """Solve forward(x) = (lon, lat) by the fixed-point iteration x <- x - (forward(x) - target).

    The offsets of GCJ-02 and BD-09 change slowly with position, so each step
    shrinks the error by orders of magnitude; a few steps reach ``tol`` degrees.
    """
    xlon, xlat = start_lon, start_lat
    for _ in range(max_iter):
        flon, flat = forward(xlon, xlat)
        elon, elat = flon - lon, flat - lat
        xlon, xlat = xlon - elon, xlat - elat
        if np.nanmax(np.abs(np.concatenate([np.ravel(elon), np.ravel(elat)])), initial=0.0) < tol:
            break
    return xlon, xlat


def gcj02_to_wgs84(lon, lat, *, tol: float = 1e-9, max_iter: int = 30):
    """Exact inverse of :func:`wgs84_to_gcj02` by fixed-point iteration."""
    glon, glat = _arrays(lon, lat)
    return _invert(wgs84_to_gcj02, glon, glat, glon.copy(), glat.copy(), tol, max_iter)


def gcj02_to_bd09(lon, lat):
    lon, lat = _arrays(lon, lat)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat, *, tol: float = 1e-10, max_iter: int = 20):
    """Inverse of :func:`gcj02_to_bd09`: the usual closed-form approximation (error ~1e-5 deg),
    refined by fixed-point iteration until the round trip is below ``tol`` degrees."""
    blon, blat = _arrays(lon, lat)
    x, y = blon - 0.0065, blat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _invert(gcj02_to_bd09, blon, blat, z * np.cos(theta), z * np.sin(theta), tol, max_iter)


def to_wgs84(lon, lat, crs: str = "wgs84"):
    """Longitudes/latitudes in ``crs`` ("wgs84", "gcj02" or "bd09") converted to WGS-84."""
    check_choice("crs", crs, CRS_CHOICES)
    if crs == "wgs84":
        return _arrays(lon, lat)
    if crs == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))

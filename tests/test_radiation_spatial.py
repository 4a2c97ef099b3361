"""The ring spatial DID (D, W D and the ring terms on a distance W): unbalanced panels, impacts, Monte Carlo.

The data-generating process is benchmarks/mc_spatial_did.py's (SYNTHETIC outcomes on the 337 real units,
a siphon ring in the truth); its R peer check is tests/peer/test_spatialreg_ring_did.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from geo import radiation as rad
from geo.errors import GeoError, ModelError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import mc_spatial_did as mc  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_blas_thread")


@pytest.fixture(scope="module")
def world(china):
    return mc.World(china)


def test_fit_names_its_terms_and_maps_effects(world):
    df, obs = world.simulate(1)
    f = rad.ring_spatial_did(df, "y_synthetic", world.ex, units=world.units, draws=100, seed=0)
    assert list(f.coefficients.index) == ["rho", "host", "W host", *mc.RINGS]
    assert list(f.params.index) == ["rho", "host", "W host", *mc.RINGS] and f.vcov.shape == (6, 6)
    # direct/indirect are the means of Delta y = (I - rho W)^-1 (b h + g W h + sum theta R) at the estimates
    from geo.radiation.spatial_rings import zone_effects

    p = f.params
    dy = zone_effects(world.W, p["rho"], p["host"], p[list(mc.RINGS)].to_numpy(), world.H, world.R, g=p["W host"])
    assert f.direct["estimate"] == pytest.approx(dy[world.H > 0].mean(), rel=1e-9)
    ring = (world.R[1] > 0) & (world.H == 0)
    assert f.indirect["100-200 km"]["estimate"] == pytest.approx(dy[ring].mean(), rel=1e-9)
    # the draws' fast path (eigendecomposition of W) equals the sparse solve at another parameter point
    from geo.radiation.spatial_rings import _group_means

    WH = np.asarray(world.W @ world.H.T).T
    fn = _group_means(world.W, [world.H, WH, *world.R], [world.H > 0, ring])
    th = np.array([0.55, 0.2, -0.1, 0.07, -0.05, 0.01])
    dy2 = zone_effects(world.W, th[0], th[1], th[3:], world.H, world.R, g=th[2])
    np.testing.assert_allclose(fn(th), [dy2[world.H > 0].mean(), dy2[ring].mean()], rtol=1e-9)
    truth = world.effects_truth(obs)
    assert f.indirect["100-200 km"]["upper"] < 0 and truth["100-200 km"] < 0  # the siphon ring is seen
    # LeSage-Pace impacts of D: direct = mean diag of (I - rho W)^-1 (b I + g W), total = b + g over 1 - rho
    S = np.linalg.inv(np.eye(len(world.ids)) - p["rho"] * world.W.toarray())
    M = S @ (p["host"] * np.eye(len(world.ids)) + p["W host"] * world.W.toarray())
    imp = f.impacts.estimates
    assert imp.at["host", "direct"] == pytest.approx(np.diag(M).mean(), rel=1e-8)
    assert imp.at["host", "total"] == pytest.approx((p["host"] + p["W host"]) / (1 - p["rho"]), rel=1e-8)
    js = f.to_json()
    json.dumps(js, allow_nan=False)
    assert js["durbin"] is True and js["balance"] == "none" and js["missing_unit_years"] == 0
    assert set(js["impacts_lesage_pace"]) and js["draws"] == 100
    g0 = rad.ring_spatial_did(df, "y_synthetic", world.ex, units=world.units, durbin=False, draws=20, seed=0)
    assert "W host" not in g0.coefficients.index and g0.to_json()["durbin"] is False


def test_unbalanced_panels_ml_drop_and_error(world):
    df, obs = world.simulate(2, missing=0.2)
    gaps = int((~obs).sum())
    with pytest.raises(ModelError, match=f"unbalanced panel: {gaps} of 8088 unit-years"):
        rad.ring_spatial_did(df, "y_synthetic", world.ex, units=world.units, balance="error")
    f = rad.ring_spatial_did(df, "y_synthetic", world.ex, units=world.units, draws=100, seed=1)
    assert f.balance == "ml" and f.missing == gaps and f.n_obs == len(df) and f.n_units == 337
    truth = world.effects_truth(obs)
    assert abs(f.direct["estimate"] - truth["direct"]) < 4 * f.direct["se"]
    for lab in mc.RINGS:
        assert abs(f.indirect[lab]["estimate"] - truth[lab]) < 4 * f.indirect[lab]["se"], lab
    assert "unbalanced" in f.summary()
    # drop: only units with every year; with 20 % missing at random almost none (and no host) is complete
    with pytest.raises(ModelError, match="no unit has|no host changes status"):
        rad.ring_spatial_did(df, "y_synthetic", world.ex, units=world.units, balance="drop")
    full, _ = world.simulate(3)
    some = full[~((full["adcode"].isin(world.ids[:30])) & (full["year"] == 2010))]
    d = rad.ring_spatial_did(some, "y_synthetic", world.ex, units=world.units, balance="drop", draws=20, seed=0)
    assert d.n_units == 337 - 30 and d.balance == "drop" and d.missing == 30
    with pytest.raises(GeoError, match="bad"):
        rad.ring_spatial_did(df, "y_synthetic", world.ex, units=world.units, balance="bad")


def test_monte_carlo_fast_mode_is_unbiased_and_covers(world):
    """benchmarks/mc_spatial_did.py with 3 replications: bias within Monte Carlo error, intervals not absurd."""
    res = mc.run(("balanced",), reps=3, draws=100, world=world)
    s = mc.summarise(res)
    eff = s[s["what"] == "effect"]
    assert set(eff["name"]) == {"direct", *mc.RINGS, "all"}
    for r in s.itertuples():
        # 3 replications: the mean error within 4 reported se / sqrt(3) (+ a small floor for se ~ 0)
        assert abs(r.bias) < 4 * r.mean_se / np.sqrt(3) + 1e-3, (r.what, r.name, r.bias, r.mean_se)
    assert eff["coverage"].mean() >= 0.6

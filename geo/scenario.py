"""The new-zone scenario (kept importable as ``geo.scenario``; it lives in :mod:`geo.radiation.scenario`)."""

from geo.radiation.scenario import Scenario, locate, new_corridor, new_zone

__all__ = ["Scenario", "new_zone", "new_corridor", "locate"]

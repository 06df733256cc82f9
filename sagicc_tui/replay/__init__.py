"""Scenario replay: run the engine against fakemail and check the expectations."""

from sagicc_tui.replay.check import Difference, check_run
from sagicc_tui.replay.driver import ReplayError, ReplayOptions, replay_scenario
from sagicc_tui.replay.snapshot import RunSnapshot

__all__ = [
    "Difference",
    "ReplayError",
    "ReplayOptions",
    "RunSnapshot",
    "check_run",
    "replay_scenario",
]

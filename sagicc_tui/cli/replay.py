"""``sagicc replay``: run a scenario against fakemail and check its expectations."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from fakemail.scenario import Scenario, ScenarioError, load_scenario
from sagicc_tui.replay import (
    ReplayError,
    ReplayOptions,
    RunSnapshot,
    check_run,
    replay_scenario,
)
from sagicc_tui.replay.environment import ScenarioChannelError
from sagicc_tui.replay.report import json_report, print_differences, print_run


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="run a fakemail scenario through the engine (the QA command)",
        description=(
            "Start fakemail with SCENARIO in a temporary SAGICC_HOME, create its "
            "channels, run the engine through the timeline (operator replies "
            "included) and show the tickets. With --check, run once per grouping "
            "mode the scenario expects and exit 1 on any difference."
        ),
    )
    parser.add_argument(
        "scenario", type=Path, help="path of a scenario.toml file or of its folder"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare tickets, channel states and outgoing headers with the "
        "scenario's expectations",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=None,
        metavar="X",
        help="run the timeline X times faster than real time (default: step "
        "the clocks, as fast as the engine settles)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print a machine-readable report"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep each run's SAGICC_HOME under DIR instead of deleting it",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Replay the scenario; return 0 when it ran (and matched), 1 or 2 otherwise."""
    if args.speed is not None and args.speed <= 0:
        print(
            f"sagicc replay: invalid --speed {args.speed}: use a number above 0",
            file=sys.stderr,
        )
        return 2
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as error:
        print(f"sagicc replay: {error}", file=sys.stderr)
        return 2

    modes: list[str | None] = [None]
    if args.check and scenario.grouping_modes():
        modes = list(scenario.grouping_modes())
    try:
        snapshots = _replay_with_progress(scenario, modes, args)
    except (ReplayError, ScenarioChannelError) as error:
        print(f"sagicc replay: {error}", file=sys.stderr)
        return 2

    differences = None
    if args.check:
        differences = [d for s in snapshots for d in check_run(scenario, s)]
    if args.json:
        report = json_report(scenario.name, snapshots, differences)
        json.dump(report, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        for snapshot in snapshots:
            print_run(snapshot, sys.stdout)
        if differences is not None:
            print_differences(differences, sys.stdout)
            verdict = (
                "passed" if not differences else f"{len(differences)} difference(s)"
            )
            print(f"scenario {scenario.name}: {verdict}")
    return 1 if differences else 0


def _replay_with_progress(
    scenario: Scenario, modes: list[str | None], args: argparse.Namespace
) -> list[RunSnapshot]:
    """Replay ``scenario`` once per mode, with one progress line each on stderr.

    Each mode is a separate replay_scenario call so the line appears before
    its run. With --keep, every run must share the one kept folder, which
    replay_scenario only allows within a single call, so one line names all
    modes up front instead.
    """
    if args.keep is not None:
        names = ", ".join(mode or "channels' own grouping" for mode in modes)
        _progress(f"replaying scenario {scenario.name} ({names})")
        options = ReplayOptions(speed=args.speed, folder=args.keep, log_to_home=True)
        return asyncio.run(replay_scenario(scenario, modes, options))

    snapshots: list[RunSnapshot] = []
    for number, mode in enumerate(modes, start=1):
        name = f"grouping {mode}" if mode else "the channels' own grouping"
        _progress(
            f"replaying scenario {scenario.name} with {name} "
            f"(run {number} of {len(modes)})"
        )
        options = ReplayOptions(speed=args.speed, log_to_home=True)
        snapshots.extend(asyncio.run(replay_scenario(scenario, [mode], options)))
    return snapshots


def _progress(line: str) -> None:
    print(f"sagicc replay: {line}", file=sys.stderr, flush=True)

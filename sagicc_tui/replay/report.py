"""Text and JSON reports of replay runs and their differences."""

from __future__ import annotations

from typing import Any, TextIO

from sagicc_tui.replay.check import Difference
from sagicc_tui.replay.snapshot import RunSnapshot


def print_run(snapshot: RunSnapshot, out: TextIO) -> None:
    """Print the tickets, channel states and operator replies of one run."""
    out.write(f"== grouping: {snapshot.mode or 'as configured'}\n")
    for channel, tickets in snapshot.tickets.items():
        out.write(f"channel {channel}: {len(tickets)} ticket(s)\n")
        for ticket in tickets:
            out.write(f"  #{ticket.number} {ticket.subject!r}\n")
            for message in ticket.messages:
                out.write(
                    f"    {message.name} ({message.direction}): {message.reason}\n"
                )
    for state in snapshot.states.values():
        error = f": {state.error}" if state.error else ""
        out.write(f"state {state.channel}: {state.state}{error}\n")
    for reply in snapshot.outgoing.values():
        where = (
            "received by fakemail" if reply.received else f"not sent ({reply.state})"
        )
        out.write(f"reply {reply.name} <{reply.message_id}>: {where}\n")
    for problem in snapshot.problems:
        out.write(f"problem: {problem}\n")


def print_differences(differences: list[Difference], out: TextIO) -> None:
    """Print each difference with the reason recorded for every message involved."""
    for difference in differences:
        mode = difference.mode or "as configured"
        out.write(
            f"DIFFERENCE [{mode}] {difference.area} {difference.subject}:\n"
            f"  expected: {difference.expected}\n"
            f"  actual:   {difference.actual}\n"
        )
        for name, reason in difference.reasons.items():
            out.write(f"  {name}: {reason}\n")


def json_report(
    scenario: str,
    snapshots: list[RunSnapshot],
    differences: list[Difference] | None,
) -> dict[str, Any]:
    """Return the machine-readable report; ``differences`` None means not checked."""
    report: dict[str, Any] = {
        "scenario": scenario,
        "runs": [snapshot.to_json() for snapshot in snapshots],
        "checked": differences is not None,
    }
    if differences is not None:
        report["differences"] = [d.to_json() for d in differences]
        report["passed"] = not differences
    return report

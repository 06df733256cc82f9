"""Deterministic faults that a scenario injects into protocol commands.

A ``FaultPlan`` contains ``FaultRule`` objects keyed by command name (upper
case, with ``UID`` forms spelled ``"UID FETCH"``). The timeline arms rules
at run time with ``FaultPlan.add``; a server asks ``FaultPlan.take(command,
tag)`` once per command it receives and applies the rule it gets back:

- ``DELAY``: wait ``seconds`` through the server's ``sleep`` (the clock),
  then run the command normally;
- ``NO`` / ``BAD``: answer the command with that status and ``text``;
- ``BYE``: send an untagged BYE with ``text`` and close the connection;
- ``DROP``: close the connection without answering;
- ``CUT_LITERAL``: run the command, send the response up to half of its
  first literal, then close the connection (IMAP FETCH; a command without a
  literal in its response is answered and then the connection closes).

A rule fires on the ``nth`` occurrence of its command counted over all
connections (1-based; None means the next one), or only for one client
``tag``, and then ``times`` times in a row (None: for good).
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass


class FaultAction(enum.Enum):
    """Action the server takes instead of, or before, running a command."""

    DELAY = "delay"
    NO = "no"
    BAD = "bad"
    BYE = "bye"
    DROP = "drop"
    CUT_LITERAL = "cut_literal"


@dataclass
class FaultRule:
    """One armed fault; ``fired`` counts how often it has been applied."""

    command: str
    action: FaultAction
    seconds: float = 0.0
    text: str = "Fault injected by fakemail"
    nth: int | None = None
    tag: str | None = None
    times: int | None = 1
    fired: int = 0

    def __post_init__(self) -> None:
        self.command = " ".join(self.command.upper().split())
        if isinstance(self.action, str):
            self.action = FaultAction(self.action.lower())
        if self.seconds < 0:
            raise ValueError(f"fault delay must be >= 0 seconds, not {self.seconds}")
        if self.nth is not None and self.nth < 1:
            raise ValueError(f"fault nth must be 1 or more, not {self.nth}")
        if any(char in self.text for char in "\r\n"):
            raise ValueError(f"fault text must be one line, not {self.text!r}")

    @property
    def exhausted(self) -> bool:
        """True once the rule has fired ``times`` times."""
        return self.times is not None and self.fired >= self.times


class FaultPlan:
    """The faults armed for one server run; safe to arm from another thread."""

    def __init__(self, rules: list[FaultRule] | None = None) -> None:
        self._rules: list[FaultRule] = []
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()
        for rule in rules or []:
            self.add(rule)

    def add(self, rule: FaultRule) -> FaultRule:
        """Arm ``rule``; its ``nth`` counts from the commands seen so far."""
        with self._lock:
            if rule.nth is not None:
                rule.nth += self._seen.get(rule.command, 0)
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Disarm every rule and forget the command counts."""
        with self._lock:
            self._rules.clear()
            self._seen.clear()

    @property
    def rules(self) -> list[FaultRule]:
        """Rules still armed, in the order they were added."""
        with self._lock:
            return [rule for rule in self._rules if not rule.exhausted]

    def take(self, command: str, tag: str | None = None) -> FaultRule | None:
        """Count one ``command`` and return the rule to apply to it, if any."""
        name = " ".join(command.upper().split())
        with self._lock:
            count = self._seen.get(name, 0) + 1
            self._seen[name] = count
            for rule in self._rules:
                if rule.exhausted or rule.command != name:
                    continue
                if rule.tag is not None and rule.tag != tag:
                    continue
                if rule.nth is not None and count < rule.nth:
                    continue
                rule.fired += 1
                return rule
        return None

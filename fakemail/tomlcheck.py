"""Typed reading of TOML tables with errors that name the file, table and key."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_MISSING: Any = object()


class ScenarioError(ValueError):
    """An invalid scenario file: the message names the file, the place and the fix."""


class Table:
    """One TOML table being read; remembers which keys were used.

    ``where`` is how a reader finds the table in the file, for example
    ``[[listeners]] #2 (name "imap")``.
    """

    def __init__(self, source: Path, where: str, data: dict[str, Any]) -> None:
        self.source = source
        self.where = where
        self.data = data
        self._used: set[str] = set()

    def error(self, key: str | None, message: str) -> ScenarioError:
        """Build the error for ``key`` of this table (None: the table itself)."""
        place = self.where if key is None else f"{self.where}, key {key!r}"
        return ScenarioError(f"{self.source}: {place}: {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        """Return the value of ``key`` unchecked; raise when it is required."""
        self._used.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise self.error(key, "missing; add this key")
        return default

    def string(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        choices: Iterable[str] | None = None,
    ) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"invalid value {value!r}: use a non-empty string")
        if choices is not None:
            allowed = tuple(choices)
            if value not in allowed:
                raise self.error(
                    key, f"invalid value {value!r}: use one of {', '.join(allowed)}"
                )
        return value

    def number(self, key: str, default: Any = _MISSING, *, minimum: float = 0) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"invalid value {value!r}: use a number")
        if value < minimum:
            raise self.error(key, f"invalid value {value!r}: use {minimum} or more")
        return float(value)

    def integer(self, key: str, default: Any = _MISSING, *, minimum: int = 0) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"invalid value {value!r}: use a whole number")
        if value < minimum:
            raise self.error(key, f"invalid value {value!r}: use {minimum} or more")
        return value

    def boolean(self, key: str, default: Any = _MISSING) -> Any:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"invalid value {value!r}: use true or false")
        return value

    def strings(self, key: str, default: Any = _MISSING) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, f"invalid value {value!r}: use a list of strings")
        return tuple(value)

    def timestamp(self, key: str) -> datetime.datetime | None:
        """Read an offset date-time (TOML or ISO 8601 string); None when absent."""
        value = self.raw(key, None)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = datetime.datetime.fromisoformat(value)
            except ValueError:
                value = None
        if not isinstance(value, datetime.datetime) or value.tzinfo is None:
            raise self.error(
                key,
                "invalid date-time: use an offset date-time such as "
                "2026-03-02T09:15:00Z",
            )
        return value

    def table(self, key: str) -> Table | None:
        value = self.raw(key, None)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(key, "must be a table ([...] or {...})")
        return Table(self.source, f"{self.where} [{key}]", value)

    def tables(self, key: str, label: str | None = None) -> list[Table]:
        """Read an array of tables; each gets a place such as ``[[key]] #2``."""
        value = self.raw(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(key, f"must be an array of tables ([[{key}]])")
        prefix = f"{self.where} " if self.where != "top level" else ""
        label = label or key
        return [
            Table(self.source, f"{prefix}[[{label}]] #{index}", item)
            for index, item in enumerate(value, start=1)
        ]

    def finish(self) -> None:
        """Raise on keys this reader did not use: they are typos or unsupported."""
        unknown = sorted(set(self.data) - self._used)
        if unknown:
            allowed = ", ".join(sorted(self._used)) or "none"
            raise self.error(
                unknown[0], f"unknown key; the keys read here are: {allowed}"
            )

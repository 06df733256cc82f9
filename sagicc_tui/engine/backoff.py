"""Exponential backoff with jitter for reconnecting channels."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# Seconds: the first retry comes after about 2 s, then 4, 8, ... up to 5 min.
BASE_DELAY = 2.0
MAX_DELAY = 300.0


@dataclass(slots=True)
class Backoff:
    """Delays that double per failure, each scaled by a random 50-100 %.

    The jitter keeps channels that failed together (one server restart) from
    reconnecting in lockstep. ``reset`` after a successful sync.
    """

    base: float = BASE_DELAY
    cap: float = MAX_DELAY
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        """Return the seconds to wait before the next try, and count the failure."""
        delay = min(self.cap, self.base * 2**self.attempt)
        self.attempt += 1
        return delay * self.rng.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.attempt = 0

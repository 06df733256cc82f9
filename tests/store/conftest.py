"""Fixtures for the store tests: a fresh store under the test's SAGICC_HOME."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sagicc_tui.store import TicketStore
from sagicc_tui.store.ingest import IngestParams
from tests.store.mail import StepClock


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def store(clock: StepClock) -> Iterator[TicketStore]:
    opened = TicketStore.open(clock=clock)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def params() -> IngestParams:
    return IngestParams(channel="support", grouping="thread", folder="INBOX")

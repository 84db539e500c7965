"""The default clock is `time.monotonic()`: the seconds a breaker reports
(`StateChange.at`, snapshot times, `Permit.started`) can be compared with it."""

from __future__ import annotations

import time

import pytest
from fusewire import CircuitBreaker, Retrying, _native


def test_ticks_are_time_monotonic_ns() -> None:
    before = time.monotonic_ns()
    ours = _native.monotonic_ns()
    after = time.monotonic_ns()
    assert before - 1_000_000 <= ours <= after + 1_000_000


def test_breaker_times_are_time_monotonic_seconds() -> None:
    b = CircuitBreaker(consecutive_failures=1, open_duration=30.0)
    now = time.monotonic()
    change = b.trip()
    assert change is not None
    assert change.at == pytest.approx(now, abs=0.5)
    snap = b.snapshot()
    assert snap["since"] == pytest.approx(now, abs=0.5)
    assert snap["open_until"] == pytest.approx(now + 30.0, abs=0.5)
    b.reset()
    assert b.acquire().started == pytest.approx(time.monotonic(), abs=0.5)


def test_a_given_clock_is_used_as_is() -> None:
    b = CircuitBreaker(clock=lambda: 5.0)
    change = b.trip()
    assert change is not None and change.at == 5.0
    assert Retrying(clock=lambda: 7.0).state() is not None

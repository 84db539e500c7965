from __future__ import annotations

import asyncio
import inspect
import math
import sys
from typing import Any

import fusewire
import pytest
from conftest import FakeClock
from fusewire import Backoff, CircuitBreaker, CircuitOpenError, ConfigError, State, StateChange


class Boom(Exception):
    pass


def fail() -> None:
    raise Boom


def trip(b: CircuitBreaker, n: int = 2) -> None:
    for _ in range(n):
        with pytest.raises(Boom):
            b.call(fail)


def test_opens_on_failure_rate_and_says_when_to_retry(clock: FakeClock) -> None:
    b = CircuitBreaker(min_calls=4, open_duration=10.0, clock=clock)
    assert b.call(lambda: 1) == 1
    assert b.call(lambda: 2) == 2
    trip(b)
    assert b.state is State.OPEN
    clock.advance(2.5)
    with pytest.raises(CircuitOpenError) as info:
        b.call(lambda: 3)
    assert info.value.retry_after == pytest.approx(7.5)
    assert info.value.state == "open"
    assert isinstance(info.value, fusewire.FusewireError)


def test_half_open_probe_closes_or_reopens(clock: FakeClock) -> None:
    b = CircuitBreaker(min_calls=2, open_duration=1.0, clock=clock)
    trip(b)
    clock.advance(1.0)
    assert b.state is State.HALF_OPEN
    trip(b, 1)  # the probe fails
    assert b.state is State.OPEN
    clock.advance(1.0)
    assert b.call(lambda: "ok") == "ok"
    assert b.state is State.CLOSED


def test_consecutive_failures_and_exponential_open(clock: FakeClock) -> None:
    b = CircuitBreaker(
        failure_rate=None,
        consecutive_failures=3,
        open_duration=Backoff.exponential(1.0, 2.0, cap=8.0),
        clock=clock,
    )
    trip(b, 3)
    assert b.snapshot()["retry_after"] == pytest.approx(1.0)
    clock.advance(1.0)
    trip(b, 1)
    assert b.snapshot()["retry_after"] == pytest.approx(2.0)


def test_exclude_types_and_predicates_are_ignored(clock: FakeClock) -> None:
    b = CircuitBreaker(
        min_calls=1,
        exclude=[KeyError, lambda e: isinstance(e, OSError) and e.errno == 2],
        clock=clock,
    )
    with pytest.raises(KeyError):
        b.call(lambda: {}["x"])

    def enoent() -> None:
        raise OSError(2, "no such file")

    with pytest.raises(OSError):
        b.call(enoent)
    snap = b.snapshot()
    assert (snap["ignored"], snap["failures"], snap["state"]) == (2, 0, "closed")


def test_exclude_as_success(clock: FakeClock) -> None:
    b = CircuitBreaker(min_calls=1, exclude=KeyError, exclude_as="success", clock=clock)
    with pytest.raises(KeyError):
        b.call(lambda: {}["x"])
    assert b.snapshot()["successes"] == 1


def test_cancelled_calls_give_their_probe_back(clock: FakeClock) -> None:
    b = CircuitBreaker(min_calls=2, open_duration=1.0, clock=clock)
    trip(b)
    clock.advance(1.0)

    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        b.call(interrupted)
    snap = b.snapshot()
    assert snap["state"] == "half_open"
    assert snap["probes_in_flight"] == 0
    assert b.call(lambda: 1) == 1  # the slot came back
    assert b.state is State.CLOSED


def test_listeners_get_state_changes_after_the_call(clock: FakeClock) -> None:
    seen: list[StateChange] = []
    b = CircuitBreaker(
        name="db", min_calls=2, open_duration=1.0, clock=clock, listeners=[seen.append]
    )

    def state_inside(change: StateChange) -> None:
        # Called outside every lock: the breaker is usable from a listener.
        seen.append(change._replace(reason=f"inside:{b.state.value}"))

    b.add_listener(state_inside)
    trip(b)
    assert [(c.name, c.from_state, c.to_state, c.reason) for c in seen] == [
        ("db", State.CLOSED, State.OPEN, "failure_rate"),
        ("db", State.CLOSED, State.OPEN, "inside:open"),
    ]
    b.remove_listener(state_inside)
    clock.advance(1.0)
    b.call(lambda: None)
    assert [c.to_state for c in seen[2:]] == [State.HALF_OPEN, State.CLOSED]
    with pytest.raises(ValueError):
        b.remove_listener(state_inside)


def test_a_failing_listener_is_reported_not_raised(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)

    def bad(change: StateChange) -> None:
        raise RuntimeError("listener bug")

    b = CircuitBreaker(min_calls=1, clock=clock, listeners=[bad])
    with pytest.raises(Boom):
        b.call(fail)
    assert b.state is State.OPEN
    assert [type(r.exc_value) for r in reported] == [RuntimeError]


def test_decorator_keeps_name_doc_signature_and_binds_methods(clock: FakeClock) -> None:
    b = CircuitBreaker(clock=clock)

    @b
    def add(x: int, y: int = 2) -> int:
        """Adds."""
        return x + y

    assert add(1) == 3
    assert add(1, y=5) == 6
    assert add.__name__ == "add"
    assert add.__doc__ == "Adds."
    assert inspect.signature(add) == inspect.signature(add.__wrapped__)  # type: ignore[attr-defined]
    assert add.__wrapped__(1) == 3  # type: ignore[attr-defined]

    class Repo:
        def __init__(self) -> None:
            self.n = 10

        @b
        def get(self, k: int) -> int:
            return self.n + k

        @staticmethod
        @b
        def static(k: int) -> int:
            return k

    assert Repo().get(1) == 11
    assert Repo.static(4) == 4
    assert b.snapshot()["successes"] == 4


def test_context_managers_sync_and_async(clock: FakeClock) -> None:
    b = CircuitBreaker(min_calls=2, clock=clock)
    with b:
        with b:  # nested in one thread: permits kept apart
            pass
    with pytest.raises(Boom), b:
        raise Boom

    async def main() -> None:
        async with b:
            await asyncio.sleep(0)
        with pytest.raises(Boom):
            async with b:
                raise Boom

    asyncio.run(main())
    snap = b.snapshot()
    assert (snap["successes"], snap["failures"], snap["state"]) == (3, 2, "closed")
    b.trip()
    with pytest.raises(CircuitOpenError):
        with b:
            pass


def test_async_decorator_and_call_async(clock: FakeClock) -> None:
    b = CircuitBreaker(failure_rate=None, consecutive_failures=2, clock=clock)

    @b
    async def fetch(x: int) -> int:
        await asyncio.sleep(0)
        if x < 0:
            raise Boom
        return x

    assert inspect.iscoroutinefunction(fetch)
    assert fetch.__name__ == "fetch"

    async def main() -> None:
        assert await fetch(3) == 3
        assert await b.call_async(fetch, 4) == 4
        with pytest.raises(Boom):
            await fetch(-1)
        with pytest.raises(Boom):
            await fetch(-1)
        with pytest.raises(CircuitOpenError):
            await fetch(1)

    asyncio.run(main())


def test_slow_calls_trip_with_the_fake_clock(clock: FakeClock) -> None:
    b = CircuitBreaker(
        failure_rate=None, slow_call_rate=50, slow_call_duration=1.0, min_calls=2, clock=clock
    )

    def slow() -> None:
        clock.advance(1.5)

    b.call(slow)
    b.call(slow)
    assert b.state is State.OPEN
    assert b.snapshot()["slow"] == 2


def test_time_window_forgets_old_failures(clock: FakeClock) -> None:
    b = CircuitBreaker(min_calls=3, window_duration=10.0, window_buckets=10, clock=clock)
    trip(b, 2)
    clock.advance(11.0)
    trip(b, 2)
    assert b.state is State.CLOSED
    trip(b, 1)
    assert b.state is State.OPEN


def test_host_controls(clock: FakeClock) -> None:
    b = CircuitBreaker(clock=clock)
    b.force_open()
    with pytest.raises(CircuitOpenError) as info:
        b.call(lambda: None)
    assert info.value.retry_after == math.inf
    b.disable()
    trip(b, 50)
    assert b.state is State.DISABLED
    b.close()
    b.trip()
    assert b.state is State.OPEN
    b.reset()
    assert b.state is State.CLOSED
    assert "CircuitBreaker" in repr(b)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"failure_rate": 101}, "failure_rate"),
        ({"failure_rate": math.nan}, "failure_rate"),
        ({"slow_call_rate": 10}, "slow_call_duration"),
        ({"consecutive_failures": 0}, "consecutive_failures"),
        ({"half_open_probes": 0}, "half_open_probes"),
        ({"open_duration": 0}, "open_duration"),
        ({"open_duration": -1.0}, "open_duration"),
        ({"window_size": 0}, "window_size"),
        ({"window_duration": 1.0, "window_buckets": 0}, "window_buckets"),
        ({"comparison": "bigger"}, "comparison"),
        ({"half_open_rule": "x"}, "half_open_rule"),
        ({"exclude_as": "x"}, "exclude_as"),
    ],
)
def test_bad_config_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        CircuitBreaker(**kwargs)
    assert info.value.field == field
    assert field in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"failure_rate": "half"}, "failure_rate"),
        ({"exclude": [1]}, "exclude"),
        ({"clock": 3}, "clock"),
        ({"open_duration": "1s"}, "open_duration"),
        ({"listeners": [None]}, "listeners"),
    ],
)
def test_wrong_types_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(TypeError, match=field):
        CircuitBreaker(**kwargs)


def test_a_clock_that_raises_surfaces_and_leaks_nothing() -> None:
    ticks = iter([0.0])

    def clock() -> float:
        return next(ticks)

    # A slow-call rule needs the end time, so the clock is read twice.
    b = CircuitBreaker(slow_call_rate=50, slow_call_duration=1.0, clock=clock)
    with pytest.raises(StopIteration):
        b.call(lambda: 1)

"""The low-level API: permits, host moves, retry states, budget, bucket and
bulkhead counters, driven by a fake clock (no sleeps)."""

from __future__ import annotations

import math

import pytest
from conftest import FakeClock
from fusewire import (
    Backoff,
    Bulkhead,
    CircuitBreaker,
    CircuitOpenError,
    Permit,
    RetryBudget,
    Retrying,
    RetryState,
    State,
    StateChange,
    TokenBucket,
)


class Boom(Exception):
    pass


def breaker(clock: FakeClock, changes: list[StateChange], **kw: object) -> CircuitBreaker:
    options: dict[str, object] = {"min_calls": 2, "open_duration": 10.0, "clock": clock}
    options.update(kw)
    return CircuitBreaker(listeners=[changes.append], **options)  # type: ignore[arg-type]


def test_permits_record_outcomes_and_report_the_transition(clock: FakeClock) -> None:
    changes: list[StateChange] = []
    b = breaker(clock, changes)
    first, second = b.acquire(), b.acquire()
    assert isinstance(first, Permit)
    assert not first.probe and not first.used
    assert first.success() is None
    assert first.used
    moved = second.failure()
    assert moved is not None
    assert (moved.from_state, moved.to_state, moved.reason) == (
        State.CLOSED,
        State.OPEN,
        "failure_rate",
    )
    assert changes == [moved]
    assert moved.at == clock.now
    clock.advance(4.0)
    with pytest.raises(CircuitOpenError) as info:
        b.acquire()
    assert info.value.retry_after == pytest.approx(6.0)


def test_a_permit_is_used_once(clock: FakeClock) -> None:
    b = breaker(clock, [])
    p = b.acquire()
    p.release()
    for again in (p.success, p.failure, p.timeout, p.ignore, p.release):
        with pytest.raises(RuntimeError, match="already used"):
            again()
    snap = b.snapshot()
    assert snap["successes"] == 0
    # The core refused each second hand-back and counted it, as in every door.
    assert snap["refused_permits"] == 5
    assert snap["permits_out"] == 0


def test_a_bad_duration_does_not_use_the_permit(clock: FakeClock) -> None:
    b = breaker(clock, [])
    p = b.acquire()
    with pytest.raises(ValueError):
        p.success(duration=-1.0)
    assert not p.used
    p.success(duration=0.5)


def test_duration_defaults_to_the_time_since_acquire(clock: FakeClock) -> None:
    b = breaker(clock, [], failure_rate=None, slow_call_rate=100.0, slow_call_duration=1.0)
    p = b.acquire()
    clock.advance(1.5)
    p.success()
    q = b.acquire()
    q.success(duration=0.1)
    snap = b.snapshot()
    assert (snap["successes"], snap["slow"]) == (2, 1)


def test_timeout_and_ignore_are_counted_apart(clock: FakeClock) -> None:
    b = breaker(clock, [], min_calls=10)
    b.acquire().timeout()
    b.acquire().ignore()
    snap = b.snapshot()
    assert (snap["timeouts"], snap["ignored"], snap["failures"]) == (1, 1, 1)  # a timeout fails


def test_permit_as_a_context_manager(clock: FakeClock) -> None:
    b = breaker(clock, [], min_calls=10, exclude=[KeyError])
    with pytest.raises(Boom), b.acquire():
        raise Boom
    with pytest.raises(KeyError), b.acquire():
        raise KeyError("x")
    with b.acquire() as p:
        p.timeout()  # settled inside: the exit leaves it
    with b.acquire():
        pass
    snap = b.snapshot()
    # failures count the timeout too
    assert (snap["failures"], snap["ignored"], snap["timeouts"], snap["successes"]) == (2, 1, 1, 1)


def test_probes_released_give_their_slot_back(clock: FakeClock) -> None:
    changes: list[StateChange] = []
    b = breaker(clock, changes, open_duration=1.0)
    b.trip()
    clock.advance(1.0)
    probe = b.acquire()
    assert probe.probe
    with pytest.raises(CircuitOpenError):
        b.acquire()
    probe.release()
    again = b.acquire()
    moved = again.success()
    assert moved is not None and moved.reason == "probes_passed"
    assert [c.to_state for c in changes] == [State.OPEN, State.HALF_OPEN, State.CLOSED]


def test_poll_and_host_moves_return_their_transition(clock: FakeClock) -> None:
    b = breaker(clock, [], open_duration=2.0)
    assert b.poll() is None
    tripped = b.trip()
    assert tripped is not None and (tripped.to_state, tripped.reason) == (State.OPEN, "host")
    assert b.trip() is None
    snap = b.snapshot()
    assert snap["open_until"] == pytest.approx(clock.now + 2.0)
    assert snap["since"] == pytest.approx(clock.now)
    clock.advance(2.0)
    polled = b.poll()
    assert polled is not None and polled.reason == "open_elapsed"
    assert b.snapshot()["open_until"] == 0.0
    forced = b.force_open()
    assert forced is not None and forced.to_state is State.FORCED_OPEN
    with pytest.raises(CircuitOpenError) as info:
        b.acquire()
    assert math.isinf(info.value.retry_after)
    half = b.half_open()
    assert half is not None and half.to_state is State.HALF_OPEN
    assert b.acquire().probe
    disabled = b.disable()
    assert disabled is not None and disabled.to_state is State.DISABLED
    closed = b.reset()
    assert closed is not None and closed.to_state is State.CLOSED
    assert b.close() is None


def test_with_breaker_and_call_async_settle_permits_the_same_way(clock: FakeClock) -> None:
    import asyncio

    b = breaker(clock, [], min_calls=10)

    async def boom() -> None:
        raise Boom

    with pytest.raises(Boom):
        asyncio.run(b.call_async(boom))
    with pytest.raises(Boom), b:
        raise Boom
    assert b.snapshot()["failures"] == 2


def test_retry_state_decides_like_the_core(clock: FakeClock) -> None:
    backoff = Backoff.exponential(1.0, 2.0, jitter="decorrelated", cap=30.0)
    policy = Retrying(max_attempts=4, backoff=backoff, clock=clock)
    state = policy.state(seed=7)
    assert isinstance(state, RetryState)
    assert state.attempts == 0
    state.start()
    assert state.attempts == 1
    delays = [state.next() for _ in range(3)]
    assert delays == backoff.delays(3, seed=7)
    assert state.attempts == 4
    assert state.next() is None
    assert state.reason == "max_attempts"


def test_retry_state_deadline_and_server_hint(clock: FakeClock) -> None:
    policy = Retrying(
        max_attempts=10, max_elapsed=5.0, backoff=Backoff.constant(1.0, cap=4.0), clock=clock
    )
    state = policy.state()
    state.start()
    assert state.next(retry_after=3.0) == 3.0  # the hint lengthens the wait
    assert state.next(retry_after=0.5) == 1.0  # and never shortens it
    assert state.reason is None
    clock.advance(4.5)
    assert state.next() is None
    assert (state.reason, state.attempts) == ("deadline", 3)
    assert state.next(retry_after=None) is None
    with pytest.raises(ValueError):
        state.next(retry_after=-1.0)


def test_a_wait_longer_than_the_retry_may_wait_gives_up(clock: FakeClock) -> None:
    policy = Retrying(max_attempts=10, backoff=Backoff.constant(1.0, cap=4.0), clock=clock)
    for hint in (5.0, float("inf")):  # past the cap; a forced-open breaker
        state = policy.state()
        assert state.next(retry_after=hint) is None
        assert state.reason == "wait_too_long"


def test_retry_state_asks_the_policys_budget(clock: FakeClock) -> None:
    budget = RetryBudget(max_tokens=4, token_ratio=0.5)
    state = Retrying(max_attempts=10, budget=budget, clock=clock).state()
    assert state.next() is not None  # 4 -> 3 tokens: above half, a retry is allowed
    assert state.next() is None
    assert (state.reason, budget.throttled) == ("budget", 1)


def test_operations_without_a_seed_draw_their_own() -> None:
    policy = Retrying(max_attempts=30, backoff=Backoff.constant(1.0, jitter="full", cap=1.0))
    runs = [[policy.state().next() for _ in range(20)] for _ in range(2)]
    assert runs[0] != runs[1]
    seeded = Retrying(max_attempts=30, backoff=Backoff.constant(1.0, jitter="full"), seed=9)
    again = Retrying(max_attempts=30, backoff=Backoff.constant(1.0, jitter="full"), seed=9)
    assert [seeded.state().next() for _ in range(5)] == [again.state().next() for _ in range(5)]


def test_retry_states_draw_their_own_jitter(clock: FakeClock) -> None:
    policy = Retrying(
        max_attempts=5, backoff=Backoff.constant(1.0, jitter="full", cap=1.0), seed=3, clock=clock
    )
    a, b = policy.state(), policy.state()
    assert [a.next() for _ in range(4)] != [b.next() for _ in range(4)]


def test_budget_low_level() -> None:
    budget = RetryBudget(max_tokens=2, token_ratio=0.5)
    assert budget.tokens == 2.0
    budget.record_failure()
    assert budget.try_retry() is False  # half or fewer left
    assert budget.throttled == 1
    budget.record_success()
    budget.record_success()
    assert budget.tokens == 2.0
    assert budget.try_retry() is True


def test_bucket_take_says_how_long_to_wait(clock: FakeClock) -> None:
    bucket = TokenBucket(2, 1.0, clock=clock)
    assert bucket.take(2) == 0.0
    assert bucket.take() == pytest.approx(0.5)
    assert bucket.available == 0  # a refusal takes nothing
    clock.advance(0.5)
    assert bucket.take() == 0.0
    with pytest.raises(ValueError, match="burst"):
        bucket.take(3)


def test_bulkhead_counts_extra_releases() -> None:
    bh = Bulkhead(3, reserve_critical=1)
    assert [bh.available_for(p) for p in ("critical", "normal", "sheddable")] == [3, 2, 2]
    slot = bh.acquire("normal")
    assert bh.available_for() == 1
    bh.release(slot)
    with pytest.raises(ValueError):
        bh.release(slot)
    assert bh.extra_releases == 1
    assert bh.in_use == 0


def test_backoff_raw_is_the_unjittered_capped_schedule() -> None:
    b = Backoff.exponential(1.0, 2.0, jitter="full", cap=5.0)
    assert [b.raw(n) for n in range(4)] == [1.0, 2.0, 4.0, 5.0]

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest
from conftest import FakeClock
from fusewire import (
    Backoff,
    CircuitBreaker,
    CircuitOpenError,
    ConfigError,
    RetryBudget,
    RetryError,
    Retrying,
    retry,
)


class Flaky:
    """Fails `failures` times with `exc`, then returns "ok"."""

    def __init__(self, failures: int, exc: type[BaseException] = ConnectionError) -> None:
        self.failures = failures
        self.exc = exc
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc(self.calls)
        return "ok"


def sleeper(clock: FakeClock, slept: list[float]) -> Any:
    def sleep(s: float) -> None:
        slept.append(s)
        clock.advance(s)

    return sleep


def test_retries_until_success_with_the_schedule(clock: FakeClock) -> None:
    slept: list[float] = []
    policy = Retrying(
        max_attempts=5,
        backoff=Backoff.exponential(0.1, 2.0),
        clock=clock,
        sleep=sleeper(clock, slept),
    )
    f = Flaky(3)
    assert policy.call(f) == "ok"
    assert f.calls == 4
    assert slept == pytest.approx([0.1, 0.2, 0.4])


def test_gives_up_with_retry_error_from_the_last_exception(clock: FakeClock) -> None:
    slept: list[float] = []

    @retry(max_attempts=3, backoff=Backoff.constant(1.0), clock=clock, sleep=sleeper(clock, slept))
    def always() -> None:
        raise ConnectionError("down")

    with pytest.raises(RetryError) as info:
        always()
    assert info.value.attempts == 3
    assert info.value.reason == "max_attempts"
    assert isinstance(info.value.last_exception, ConnectionError)
    assert slept == [1.0, 1.0]


def test_reraise_and_unmatched_exceptions_pass_through(clock: FakeClock) -> None:
    p = Retrying(max_attempts=2, backoff=Backoff.constant(0.001), reraise=True, retry_on=OSError)
    f = Flaky(5)
    with pytest.raises(ConnectionError):
        p.call(f)
    assert f.calls == 2
    g = Flaky(5, KeyError)
    with pytest.raises(KeyError):
        p.call(g)
    assert g.calls == 1  # not an OSError: never retried


def test_retry_on_predicate(clock: FakeClock) -> None:
    p = Retrying(
        max_attempts=4,
        backoff=Backoff.constant(0.001),
        retry_on=lambda e: isinstance(e, ValueError) and "transient" in str(e),
        sleep=lambda s: None,
    )
    calls = []

    def f() -> None:
        calls.append(1)
        raise ValueError("transient" if len(calls) < 3 else "fatal")

    with pytest.raises(ValueError, match="fatal"):
        p.call(f)
    assert len(calls) == 3


def test_deadline_stops_before_a_late_attempt(clock: FakeClock) -> None:
    slept: list[float] = []
    p = Retrying(
        max_attempts=100,
        max_elapsed=2.5,
        backoff=Backoff.constant(1.0),
        clock=clock,
        sleep=sleeper(clock, slept),
    )
    with pytest.raises(RetryError) as info:
        p.call(Flaky(100))
    assert info.value.reason == "deadline"
    assert slept == [1.0, 1.0]


def test_budget_stops_retry_storms() -> None:
    budget = RetryBudget(max_tokens=4, token_ratio=0.5)
    p = Retrying(
        max_attempts=10, backoff=Backoff.constant(0.001), budget=budget, sleep=lambda s: None
    )
    with pytest.raises(RetryError) as info:
        p.call(Flaky(100))
    assert info.value.reason == "budget"
    assert budget.throttled == 1
    assert not budget.can_retry
    assert p.call(lambda: 1) == 1
    assert budget.tokens == pytest.approx(2.5)


def test_retry_after_hint_is_honoured(clock: FakeClock) -> None:
    slept: list[float] = []
    b = CircuitBreaker(min_calls=1, open_duration=3.0, clock=clock)
    p = Retrying(
        max_attempts=3,
        backoff=Backoff.constant(0.1, cap=5.0),
        clock=clock,
        sleep=sleeper(clock, slept),
    )
    f = Flaky(1)
    with pytest.raises(ConnectionError):
        b.call(f)
    assert p.call(b.call, f) == "ok"  # CircuitOpenError carries retry_after=3
    assert slept == [pytest.approx(3.0)]
    assert issubclass(CircuitOpenError, Exception)


def test_a_breaker_open_longer_than_the_retry_may_wait_gives_up(clock: FakeClock) -> None:
    b = CircuitBreaker(min_calls=1, open_duration=30.0, clock=clock)
    p = Retrying(max_attempts=3, backoff=Backoff.constant(0.1, cap=5.0), clock=clock)
    f = Flaky(1)
    with pytest.raises(ConnectionError):
        b.call(f)
    with pytest.raises(RetryError) as info:
        p.call(b.call, f)
    assert (info.value.reason, info.value.attempts) == ("wait_too_long", 1)


def test_before_sleep_hook() -> None:
    seen: list[tuple[int, float, str]] = []
    p = Retrying(
        max_attempts=3,
        backoff=Backoff.linear(0.5, 0.5),
        sleep=lambda s: None,
        before_sleep=lambda n, d, e: seen.append((n, d, type(e).__name__)),
    )
    assert p.call(Flaky(2)) == "ok"
    assert seen == [(1, 0.5, "ConnectionError"), (2, 1.0, "ConnectionError")]


def test_bare_decorator_and_metadata() -> None:
    @retry
    def f(x: int) -> int:
        """Doubles."""
        return 2 * x

    assert f(2) == 4
    assert f.__name__ == "f"
    assert inspect.signature(f) == inspect.signature(f.__wrapped__)  # type: ignore[attr-defined]


def test_keyboard_interrupt_is_never_retried() -> None:
    f = Flaky(1, KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        Retrying(sleep=lambda s: None).call(f)
    assert f.calls == 1


def test_async_retry_uses_async_sleep() -> None:
    slept: list[float] = []

    async def fake_sleep(s: float) -> None:
        slept.append(s)

    calls = 0

    @retry(max_attempts=4, backoff=Backoff.constant(0.25), async_sleep=fake_sleep)
    async def fetch(x: int) -> int:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise TimeoutError
        return x

    assert inspect.iscoroutinefunction(fetch)

    async def main() -> None:
        assert await fetch(7) == 7
        with pytest.raises(KeyError):
            await Retrying(retry_on=OSError).call_async(_raise_key_error)

    asyncio.run(main())
    assert slept == [0.25, 0.25]


async def _raise_key_error() -> None:
    raise KeyError("x")


def test_async_gives_up_with_real_asyncio_sleep() -> None:
    p = Retrying(max_attempts=2, backoff=Backoff.constant(0.001))

    async def down() -> None:
        raise ConnectionError

    async def main() -> None:
        with pytest.raises(RetryError) as info:
            await p.call_async(down)
        assert info.value.attempts == 2

    asyncio.run(main())


def test_jitter_modes_stay_in_bounds_and_are_seeded() -> None:
    full = Backoff.exponential(0.1, 2.0, jitter="full", cap=1.0)
    ds = full.delays(20, seed=1)
    assert all(0.0 <= d <= 1.0 for d in ds)
    assert ds == full.delays(20, seed=1)
    assert ds != full.delays(20, seed=2)
    eq = Backoff.constant(1.0, jitter="equal", cap=1.0).delays(50, seed=3)
    assert all(0.5 <= d <= 1.0 for d in eq)
    dec = Backoff.exponential(0.1, jitter="decorrelated", cap=5.0).delays(50, seed=4)
    assert all(0.1 <= d <= 5.0 for d in dec)
    prop = Backoff.constant(1.0, jitter="proportional", jitter_percent=20, cap=2.0).delays(50)
    assert all(0.8 <= d <= 1.2 for d in prop)
    assert Backoff.linear(1.0, 0.5, cap=2.0).delays(4) == [1.0, 1.5, 2.0, 2.0]
    assert "exponential" in repr(full)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Backoff.constant(0), "delay"),
        (lambda: Backoff.exponential(1.0, 0.5), "factor"),
        (lambda: Backoff.exponential(2.0, cap=1.0), "cap"),
        (lambda: Backoff.constant(1.0, jitter="wild"), "jitter"),
        (lambda: Backoff.constant(1.0, jitter="proportional"), "jitter_percent"),
        (lambda: Backoff.constant(1.0, jitter="proportional", jitter_percent=0), "jitter_percent"),
        (lambda: Retrying(max_attempts=0), "max_attempts"),
        (lambda: Retrying(max_elapsed=0), "max_elapsed"),
        (lambda: RetryBudget(max_tokens=0), "max_tokens"),
        (lambda: RetryBudget(token_ratio=0), "token_ratio"),
    ],
)
def test_bad_config_names_the_field(build: Any, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        build()
    assert info.value.field == field


def test_wrong_types_name_the_field() -> None:
    with pytest.raises(TypeError, match="retry_on"):
        Retrying(retry_on=["nope"])
    with pytest.raises(TypeError, match="sleep"):
        Retrying(sleep=3)  # type: ignore[arg-type]

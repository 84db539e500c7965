"""What people switching from tenacity, pybreaker and circuitbreaker reach
for: retrying on a returned value, a give-up value, before/after hooks,
retrying a block, a breaker fallback, a registry of named breakers and a
per-key token bucket."""

from __future__ import annotations

import asyncio
import gc
import pickle
from typing import Any

import pytest
from conftest import FakeClock
from fusewire import (
    Attempt,
    Backoff,
    CircuitBreaker,
    CircuitOpenError,
    ConfigError,
    KeyedTokenBucket,
    RateLimited,
    ResultRejected,
    RetryBudget,
    RetryError,
    Retrying,
    breakers,
    get_breaker,
    retry,
)

NO_WAIT = Backoff.constant(0.001)


def no_sleep(_: float) -> None:
    return None


async def no_async_sleep(_: float) -> None:
    return None


def policy(**kw: Any) -> Retrying:
    kw.setdefault("backoff", NO_WAIT)
    return Retrying(sleep=no_sleep, async_sleep=no_async_sleep, **kw)


def test_retry_on_a_returned_value_until_it_is_good() -> None:
    answers = iter([None, None, 42])
    calls: list[str] = []
    p = policy(
        max_attempts=5,
        retry_on_result=lambda v: v is None,
        before=lambda n: calls.append(f"before {n}"),
        after=lambda n, e: calls.append(f"after {n} {type(e).__name__}"),
    )

    @p
    def fetch() -> int | None:
        return next(answers)

    assert fetch() == 42
    assert calls == [
        "before 1",
        "after 1 ResultRejected",
        "before 2",
        "after 2 ResultRejected",
        "before 3",
    ]


def test_giving_up_on_results_raises_retry_error_with_the_last_result() -> None:
    p = policy(max_attempts=3, retry_on_result=lambda v: v < 10)
    with pytest.raises(RetryError) as info:
        p.call(lambda: 3)
    assert info.value.attempts == 3 and info.value.reason == "max_attempts"
    cause = info.value.last_exception
    assert isinstance(cause, ResultRejected) and cause.result == 3


def test_reraise_on_results_returns_the_last_result() -> None:
    p = policy(max_attempts=2, retry_on_result=lambda v: v < 10, reraise=True)
    assert p.call(lambda: 3) == 3


def test_a_give_up_value_instead_of_an_error() -> None:
    p = policy(max_attempts=2, give_up=lambda err: f"gave up after {err.attempts}")

    def down() -> str:
        raise OSError("down")

    assert p.call(down) == "gave up after 2"
    only_os = policy(max_attempts=2, retry_on=OSError, give_up=lambda err: "given up")
    with pytest.raises(KeyError):  # not retried: re-raised, never given up
        only_os.call({}.__getitem__, "x")


def test_hooks_and_result_predicates_work_async() -> None:
    answers = iter(["", "", "ok"])
    seen: list[int] = []
    p = policy(max_attempts=3, retry_on_result=lambda v: not v, before=seen.append)

    @p
    async def fetch() -> str:
        return next(answers)

    assert asyncio.run(fetch()) == "ok"
    assert seen == [1, 2, 3]
    fail = policy(max_attempts=2, give_up=lambda err: -1)

    async def down() -> int:
        raise OSError

    assert asyncio.run(fail.call_async(down)) == -1


def test_retrying_a_block() -> None:
    tries: list[int] = []
    for attempt in policy(max_attempts=4):
        with attempt:
            tries.append(attempt.number)
            if len(tries) < 3:
                raise OSError("flaky")
    assert tries == [1, 2, 3]
    assert isinstance(attempt, Attempt)


def test_retrying_a_block_gives_up_and_re_raises_what_it_does_not_retry() -> None:
    with pytest.raises(RetryError) as info:
        for attempt in policy(max_attempts=2):
            with attempt:
                raise OSError("down")
    assert info.value.attempts == 2
    with pytest.raises(KeyError):
        for attempt in policy(max_attempts=3, retry_on=OSError):
            with attempt:
                raise KeyError("not retried")


def test_retrying_a_block_spends_the_budget() -> None:
    budget = RetryBudget(max_tokens=2, token_ratio=0.1)
    with pytest.raises(RetryError) as info:
        for attempt in policy(max_attempts=10, budget=budget):
            with attempt:
                raise OSError
    assert info.value.reason == "budget"


def test_retrying_an_async_block() -> None:
    async def main() -> int:
        n = 0
        async for attempt in policy(max_attempts=3):
            with attempt:
                n += 1
                if n < 2:
                    raise OSError
        return n

    assert asyncio.run(main()) == 2


def test_retry_options_pickle_with_the_policy() -> None:
    p = Retrying(max_attempts=4, retry_on_result=bool)
    back = pickle.loads(pickle.dumps(p))
    assert back.max_attempts == 4 and back._hooks is not None


def test_the_decorator_form_takes_the_new_options() -> None:
    @retry(max_attempts=2, retry_on_result=lambda v: v == 0, sleep=no_sleep, backoff=NO_WAIT)
    def zero() -> int:
        return 0

    with pytest.raises(RetryError):
        zero()


def test_a_fallback_answers_while_the_breaker_is_open(clock: FakeClock) -> None:
    b = CircuitBreaker(consecutive_failures=1, clock=clock)

    @b.with_fallback(lambda user_id: {"id": user_id, "cached": True})
    def get_user(user_id: int) -> dict[str, Any]:
        return {"id": user_id, "cached": False}

    assert get_user(1) == {"id": 1, "cached": False}
    b.trip()
    assert get_user(2) == {"id": 2, "cached": True}


def test_a_fallback_on_failures_too_and_async(clock: FakeClock) -> None:
    b = CircuitBreaker(consecutive_failures=5, clock=clock)

    async def cached(key: str) -> str:
        return "cached " + key

    @b.with_fallback(cached, on=(CircuitOpenError, OSError))
    async def get(key: str) -> str:
        raise OSError

    assert asyncio.run(get("a")) == "cached a"
    assert b.snapshot()["failures"] == 1  # the breaker still counted it


def test_named_breakers_are_found_by_name_while_alive() -> None:
    users = CircuitBreaker(name="registry-users")
    orders = CircuitBreaker(name="registry-orders")
    CircuitBreaker()  # no name: not registered
    assert get_breaker("registry-users") is users
    assert {"registry-users", "registry-orders"} <= set(breakers())
    del orders
    gc.collect()
    assert "registry-orders" not in breakers()
    with pytest.raises(KeyError):
        get_breaker("registry-orders")


def test_a_keyed_bucket_limits_each_key_in_bounded_memory(clock: FakeClock) -> None:
    limits = KeyedTokenBucket(2, 60.0, max_keys=100, clock=clock)
    assert limits.try_acquire("alice") and limits.try_acquire("alice")
    assert not limits.try_acquire("alice")
    assert limits.try_acquire("bob")  # another key, its own tokens
    with pytest.raises(RateLimited) as info:
        limits.acquire("alice")
    assert info.value.retry_after == pytest.approx(30.0)
    for i in range(1000):
        limits.try_acquire(i)
    assert len(limits) == 100 and "alice" not in limits
    clock.advance(30.0)
    assert limits.take(999) == 0.0


def test_a_keyed_bucket_checks_its_config_once() -> None:
    with pytest.raises(ConfigError) as info:
        KeyedTokenBucket(2, max_keys=0)
    assert info.value.field == "max_keys"
    with pytest.raises(ConfigError) as info:
        KeyedTokenBucket(-1)
    assert info.value.field == "rate"


def test_stop_rules_combine_as_in_tenacity(clock: FakeClock) -> None:
    from fusewire import stop_after_attempt, stop_after_delay

    rule = stop_after_attempt(5) | stop_after_delay(2.5) | stop_after_attempt(3)
    assert (rule.max_attempts, rule.max_elapsed) == (3, 2.5)
    assert repr(rule) == "stop_after_attempt(3) | stop_after_delay(2.5)"
    tries: list[int] = []

    def down() -> None:
        tries.append(1)
        clock.advance(1.0)
        raise OSError

    p = Retrying(stop=rule, backoff=Backoff.constant(0.1), clock=clock, sleep=no_sleep)
    with pytest.raises(RetryError) as info:
        p.call(down)
    assert info.value.reason == "max_attempts" and len(tries) == 3  # 3 attempts came first
    tries.clear()
    sooner = stop_after_attempt(5) | stop_after_delay(1.5)
    with pytest.raises(RetryError) as info:
        Retrying(stop=sooner, backoff=Backoff.constant(0.1), clock=clock, sleep=no_sleep).call(down)
    assert info.value.reason == "deadline" and len(tries) == 2  # 1.5 s came first
    only_delay = Retrying(stop=stop_after_delay(60.0), backoff=NO_WAIT, sleep=no_sleep)
    assert only_delay.max_attempts == 2**32 - 1  # no attempt rule: no attempt limit
    with pytest.raises(TypeError, match=r"\|"):
        stop_after_attempt(1) & stop_after_delay(1.0)  # type: ignore[operator]
    with pytest.raises(ConfigError) as conflict:
        Retrying(stop=rule, max_attempts=4)
    assert conflict.value.field == "stop"
    with pytest.raises(TypeError, match="stop rule"):
        Retrying(stop=5)  # type: ignore[arg-type]
    assert pickle.loads(pickle.dumps(p)).max_attempts == 3

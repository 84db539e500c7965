"""Decorated module-level functions pickle (so ProcessPoolExecutor,
multiprocessing and joblib take them) and policies pickle by config: the
other side gets the same configuration with fresh state."""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import pickled
import pytest
from fusewire import (
    Backoff,
    Bulkhead,
    CircuitBreaker,
    KeyedTokenBucket,
    RetryBudget,
    Retrying,
    State,
    TokenBucket,
)


def test_decorated_functions_run_in_a_process_pool() -> None:
    pickled.breaker.trip()  # state stays here: each process has its own breaker
    try:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            results = [
                pool.submit(f, 10).result(timeout=60)
                for f in (
                    pickled.double,
                    pickled.triple,
                    pickled.quadruple,
                    pickled.limited,
                    pickled.isolated,
                )
            ]
            assert results == [20, 30, 40, 11, 9]
            assert list(pool.map(pickled.double, [1, 2, 3], timeout=60)) == [2, 4, 6]
            assert pool.submit(pickled.breaker_state).result(timeout=60) == "closed"
    finally:
        pickled.breaker.reset()


@pytest.mark.parametrize(
    "func",
    [pickled.double, pickled.double_async, pickled.triple, pickled.limited, pickled.isolated],
)
def test_decorated_functions_pickle_by_reference(func: object) -> None:
    assert pickle.loads(pickle.dumps(func)) is func


def test_breaker_pickles_by_config_with_fresh_state(clock: object) -> None:
    b = CircuitBreaker(name="db", consecutive_failures=2, open_duration=Backoff.constant(5.0))
    b.trip()
    copy = pickle.loads(pickle.dumps(b))
    assert type(copy) is CircuitBreaker
    assert copy is not b and copy.name == "db"
    assert b.state is State.OPEN and copy.state is State.CLOSED
    for _ in range(2):
        with pytest.raises(KeyError), copy:
            raise KeyError
    assert copy.state is State.OPEN  # consecutive_failures=2 came along
    assert copy.snapshot()["retry_after"] == pytest.approx(5.0, abs=0.5)


def test_limits_and_retry_pickle_by_config() -> None:
    bucket = TokenBucket(3, 60.0)
    assert all(bucket.try_acquire() for _ in range(3))
    fresh = pickle.loads(pickle.dumps(bucket))
    assert not bucket.try_acquire() and fresh.available == 3 and fresh.burst == 3

    bulkhead = Bulkhead(2, reserve_critical=1)
    bulkhead.acquire()
    fresh_b = pickle.loads(pickle.dumps(bulkhead))
    assert fresh_b.in_use == 0 and fresh_b.max_concurrent == 2
    assert fresh_b.available_for("normal") == 1

    policy = Retrying(max_attempts=7, backoff=Backoff.constant(0.5))
    assert pickle.loads(pickle.dumps(policy)).max_attempts == 7

    keyed = KeyedTokenBucket(2, 60.0, max_keys=7)
    keyed.acquire("alice")
    keyed.acquire("alice")
    fresh_k = pickle.loads(pickle.dumps(keyed))
    assert len(fresh_k) == 0 and fresh_k.max_keys == 7 and fresh_k.take("alice") == 0.0

    budget = RetryBudget(4, 0.5)
    budget.record_failure()
    assert pickle.loads(pickle.dumps(budget)).tokens == 4.0


@pytest.mark.parametrize(
    "backoff",
    [
        Backoff.constant(0.25),
        Backoff.linear(0.1, 0.2, jitter="equal", cap=1.0),
        Backoff.exponential(0.1, 1.5, jitter="proportional", jitter_percent=20, cap=3.0),
        Backoff.exponential(0.001, jitter="decorrelated"),
    ],
)
def test_backoff_pickles_by_value(backoff: Backoff) -> None:
    back = pickle.loads(pickle.dumps(backoff))
    assert repr(back) == repr(backoff)
    assert back.delays(20, seed=7) == backoff.delays(20, seed=7)


def test_unpicklable_arguments_fail_with_pickles_own_error() -> None:
    b = CircuitBreaker(listeners=[lambda change: None])
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError), match="lambda"):
        pickle.dumps(b)
    with pytest.raises(TypeError, match="Permit"):
        pickle.dumps(b.acquire())

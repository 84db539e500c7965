"""fusewire.Pool: the core's endpoint pool, with failover under a budget."""

from __future__ import annotations

import asyncio
import pickle

import pytest
from conftest import FakeClock
from fusewire import ConfigError, Pool, PoolEvent, RetryBudget


class Down(Exception):
    status_code = 503


def test_call_fails_over_to_another_endpoint_and_ejects_the_bad_one(clock: FakeClock) -> None:
    events: list[PoolEvent] = []
    pool = Pool(["a", "b"], consecutive_gateway_failures=2, max_ejection_percent=50,
                seed=1, clock=clock, listeners=[events.append])  # fmt: skip
    used: list[str] = []

    def fetch(endpoint: str, path: str) -> str:
        used.append(endpoint)
        if endpoint == "a":
            raise Down(path)
        return f"{endpoint}{path}"

    answers = [pool.call(fetch, "/x") for _ in range(6)]
    assert answers == ["b/x"] * 6
    assert used.count("a") == 2  # two 503s in a row eject "a"; then only "b"
    assert [(e.kind, e.endpoint, e.reason) for e in events] == [
        ("ejected", "a", "consecutive_gateway_failures")
    ]
    assert events[0].until == clock.now + 30.0
    st = pool.stats(0)
    assert st["ejected"] and st["ejections"] == 1 and st["outstanding"] == 0
    clock.advance(30.0)
    returned = pool.poll()
    assert [(e.kind, e.position) for e in returned] == [("returned", 0)]
    assert events[-1] == returned[0]


def test_failover_stops_when_the_budget_is_spent() -> None:
    budget = RetryBudget(max_tokens=2, token_ratio=0.1)
    pool = Pool(["a", "b", "c"], budget=budget, consecutive_failures=0, seed=3)

    def always_down(endpoint: str) -> str:
        raise ConnectionError(endpoint)

    with pytest.raises(ConnectionError):
        pool.call(always_down, attempts=3)
    assert budget.throttled == 1  # 2 tokens: one failure leaves half, no failover
    for _ in range(3):
        with pytest.raises(ConnectionError):
            pool.call(always_down, attempts=3)
    assert budget.throttled > 0  # failovers refused: retries stopped
    first = pool.pick()
    assert pool.failover(first) is None
    pool.release(first)


def test_async_call_and_cancellation_releases_the_pick() -> None:
    pool = Pool(["x", "y"], seed=2)

    async def get(endpoint: str) -> str:
        return endpoint

    assert asyncio.run(pool.call_async(get)) in ("x", "y")

    async def hang(endpoint: str) -> str:
        await asyncio.sleep(10)
        return endpoint

    async def cancel() -> None:
        task = asyncio.ensure_future(pool.call_async(hang))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel())
    assert [pool.stats(i)["outstanding"] for i in range(2)] == [0, 0]


def test_low_level_pick_record_release() -> None:
    pool = Pool(["only"], seed=0, consecutive_failures=1)
    p = pool.pick()
    assert (p.index, p.endpoint, p.panic) == (0, "only", False)
    # a one-endpoint pool never ejects its only endpoint
    assert pool.record(p, "failure") is None
    assert pool.stats(0)["calls"] == 1
    with pytest.raises(ConfigError) as info:
        pool.record(p, "boom")  # type: ignore[arg-type]
    assert info.value.field == "result"
    with pytest.raises(ConfigError):
        pool.stats(5)


def test_bad_config_names_the_keyword() -> None:
    for kw, field in [
        ({"endpoints": []}, "endpoints"),
        ({"endpoints": list(range(300))}, "endpoints"),
        ({"endpoints": [1], "interval": 0.0}, "interval"),
        ({"endpoints": [1], "interval": -1.0}, "interval"),
        ({"endpoints": [1], "base_ejection_time": 0.0}, "base_ejection_time"),
        ({"endpoints": [1], "max_ejection_time": 1.0}, "max_ejection_time"),
        ({"endpoints": [1], "max_ejection_percent": 101}, "max_ejection_percent"),
        ({"endpoints": [1], "consecutive_failures": -1}, "consecutive_failures"),
        ({"endpoints": [1], "success_rate_stdev_factor": -1.0}, "success_rate_stdev_factor"),
        ({"endpoints": [1], "seed": 2**64}, "seed"),
    ]:
        with pytest.raises(ConfigError) as info:
            Pool(**kw)  # type: ignore[arg-type]
        assert info.value.field == field, kw


def test_pickles_by_config() -> None:
    pool = Pool(["a", "b"], seed=4)
    back = pickle.loads(pickle.dumps(pool))
    assert back.endpoints == ["a", "b"] and len(back) == 2
    assert [back.pick().index for _ in range(5)] == [pool.pick().index for _ in range(5)]

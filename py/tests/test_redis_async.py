"""RedisStore's async paths (``redis.asyncio``, one client per event loop)
against a real redis-server: the event loop keeps running while Redis
stalls, each ``on_error`` under asyncio, sync and async paths of one process
at once, and the fleet limit with asyncio tasks in two processes."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import fusewire
import pytest
import redis
from fusewire import Bulkhead, CircuitBreaker, RedisStore, RetryBudget, Retrying, TokenBucket

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "redis"))
from server import RedisServer

CTX = mp.get_context("spawn")


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer() as s:
        yield s


@pytest.fixture
def url(server: RedisServer) -> Iterator[str]:
    if server.proc is None:
        server.start()
    redis.Redis.from_url(server.url).flushall()
    yield server.url


async def _no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


def _budgeted(budget: RetryBudget, **hooks: Any) -> Retrying:
    return Retrying(
        max_attempts=6,
        budget=budget,
        wait=fusewire.wait_fixed(0.001),
        sleep=lambda s: None,
        async_sleep=_no_sleep,
        **hooks,
    )


def test_an_async_retry_awaits_a_budget_in_redis_and_decides_as_the_sync_one(url: str) -> None:
    sync_store, async_store = RedisStore(url), RedisStore(url)
    pairs = []
    for hooked in (False, True):
        hooks: dict[str, Any] = {"after": lambda n, e: None} if hooked else {}
        pairs.append(
            (
                _budgeted(RetryBudget(4, 0.5, store=sync_store, name=f"s{hooked}"), **hooks),
                _budgeted(RetryBudget(4, 0.5, store=async_store, name=f"a{hooked}"), **hooks),
            )
        )
    looped = _budgeted(RetryBudget(4, 0.5, store=async_store, name="iter"))
    _no_sync_round_trip(async_store)  # the binds above made theirs

    def fails() -> None:
        raise OSError("down")

    async def afails() -> None:
        raise OSError("down")

    async def ok() -> int:
        return 3

    runs: dict[str, list[tuple[int, str]]] = {"sync": [], "async": []}
    for sync, aret in pairs:
        for _ in range(3):
            with pytest.raises(fusewire.RetryError) as e:
                sync.call(fails)
            runs["sync"].append((e.value.attempts, e.value.reason))

        async def main(policy: Retrying = aret) -> None:
            for _ in range(3):
                with pytest.raises(fusewire.RetryError) as e:
                    await policy.call_async(afails)
                runs["async"].append((e.value.attempts, e.value.reason))
            assert await policy.call_async(ok) == 3

        asyncio.run(main())
        assert sync.call(lambda: 3) == 3
    assert runs["async"] == runs["sync"]
    assert {r for _, r in runs["sync"]} >= {"budget"}, "the budget did refuse"

    async def loop_form() -> int:
        tries = 0
        with pytest.raises(fusewire.RetryError):
            async for attempt in looped:
                with attempt:
                    tries += 1
                    raise OSError("down")
        await async_store.aclose()
        return tries

    assert asyncio.run(loop_form()) == runs["sync"][0][0]


def _scripts_run(url: str) -> int:
    stats = redis.Redis.from_url(url).info("commandstats")
    return sum(
        int(v["calls"]) for k, v in stats.items() if k in ("cmdstat_evalsha", "cmdstat_eval")
    )


def test_an_async_retry_spends_one_round_trip_per_failure_on_its_redis_budget(url: str) -> None:
    # Retry::next_with_budget counts the failure and asks for the retry: in
    # Redis both are the script's failure_retry, one round trip; a give-up
    # that does not ask (the last attempt) sends the failure alone.
    store = RedisStore(url)
    policy = _budgeted(RetryBudget(100, 0.1, store=store, name="trips"))

    async def afails() -> None:
        raise OSError("down")

    async def main() -> int:
        before = _scripts_run(url)
        with pytest.raises(fusewire.RetryError) as e:
            await policy.call_async(afails)
        assert (e.value.attempts, e.value.reason) == (6, "max_attempts")
        return _scripts_run(url) - before

    assert asyncio.run(main()) == 6
    budget = RetryBudget(100, 0.1, store=store, name="trips")
    assert (budget.tokens, budget.throttled) == (94.0, 0)
    store.close()


def _no_sync_round_trip(store: RedisStore) -> None:
    def refuse(*args: Any) -> Any:
        raise AssertionError("an async path made a blocking round trip")

    store._eval = refuse  # type: ignore[method-assign]


def test_every_async_path_awaits_redis_and_shares_the_sync_state(url: str) -> None:
    sync = RedisStore(url)
    store = RedisStore(url)
    breaker = CircuitBreaker(store=store, name="b", min_calls=2, open_duration=30.0)
    bucket = TokenBucket(1, 3600.0, burst=3, store=store, name="t")
    bulk = Bulkhead(2, store=store, name="k")
    moves: list[fusewire.StateChange] = []
    breaker.add_listener(moves.append)
    _no_sync_round_trip(store)

    @breaker
    async def fails() -> None:
        raise OSError("down")

    async def ok() -> int:
        return 7

    async def main() -> None:
        assert await breaker.call_async(ok) == 7
        async with breaker:
            pass
        async with bucket:
            pass
        assert await bucket.call_async(ok) == 7
        await bucket.wait_async()
        async with bulk:
            async with bulk.slot("critical") as s:
                assert s.priority == "critical"
                with pytest.raises(fusewire.BulkheadFull) as full:
                    await bulk.call_async(ok)
                assert full.value.in_use == 2
        assert await bulk.call_async(ok) == 7
        for _ in range(2):
            with pytest.raises(OSError):
                await fails()
        with pytest.raises(fusewire.CircuitOpenError) as e:
            await breaker.call_async(ok)
        assert 29.0 < e.value.retry_after <= 30.0
        assert [(m.from_state, m.to_state, m.reason) for m in moves] == [
            ("closed", "open", "failure_rate")
        ]
        with pytest.raises(fusewire.RateLimited):
            await bucket.call_async(ok)
        with pytest.raises(fusewire.RateLimited):
            await bucket.wait_async(timeout=1.0)
        await store.aclose()

    asyncio.run(main())
    # the same state, seen by another process's sync calls
    twin = CircuitBreaker(store=sync, name="b", min_calls=2, open_duration=30.0)
    assert twin.state == fusewire.State.OPEN
    assert TokenBucket(1, 3600.0, burst=3, store=sync, name="t").available == 0
    assert Bulkhead(2, store=sync, name="k").in_use == 0
    assert not store._aclients, "the loop's client closed"


def test_a_store_outcome_error_is_reported_not_raised(url: str) -> None:
    store = RedisStore(url)
    breaker = CircuitBreaker(store=store, name="unraisable")
    seen: list[Any] = []

    async def boom(*args: Any) -> Any:
        raise fusewire.RedisStoreError("refused")

    async def main() -> int:
        backend = breaker._ab
        backend.arecord = boom
        async with breaker:
            pass
        return await breaker.call_async(asyncio.sleep, 0, 5)

    old = sys.unraisablehook
    sys.unraisablehook = seen.append
    try:
        assert asyncio.run(main()) == 5
    finally:
        sys.unraisablehook = old
    assert [type(u.exc_value) for u in seen] == [fusewire.RedisStoreError] * 2


async def _ticking(work: Callable[[], Awaitable[None]], seconds: float) -> tuple[float, float, int]:
    """Runs ``work`` in 8 tasks for ``seconds`` beside a 2 ms ticker: (the
    ticker's longest gap, the slowest call, calls), by the loop's clock."""
    loop = asyncio.get_running_loop()
    stop = loop.time() + seconds
    gap, slowest, calls = 0.0, 0.0, 0

    async def ticker() -> None:
        nonlocal gap
        last = loop.time()
        while loop.time() < stop:
            await asyncio.sleep(0.002)
            now = loop.time()
            gap, last = max(gap, now - last), now

    async def caller() -> None:
        nonlocal slowest, calls
        while loop.time() < stop:
            t = loop.time()
            await work()
            slowest, calls = max(slowest, loop.time() - t), calls + 1
            await asyncio.sleep(0.001)

    await asyncio.gather(ticker(), *(caller() for _ in range(8)))
    return gap, slowest, calls


def test_the_loop_keeps_ticking_while_redis_is_stopped(server: RedisServer, url: str) -> None:
    timeout = 0.2  # long, so one blocking round trip would show as a gap
    store = RedisStore(url, timeout=timeout, on_error="fail_closed")
    breaker = CircuitBreaker(store=store, name="tick")
    bucket = TokenBucket(100, 1.0, store=store, name="tick")
    bulk = Bulkhead(4, store=store, name="tick")
    retrying = _budgeted(RetryBudget(10, 0.1, store=store, name="tick"))
    _no_sync_round_trip(store)

    async def fails() -> None:
        raise OSError("down")

    async def work() -> None:
        for path in (
            lambda: breaker.call_async(asyncio.sleep, 0),
            lambda: bucket.call_async(asyncio.sleep, 0),
            lambda: bulk.call_async(asyncio.sleep, 0),
            lambda: retrying.call_async(fails),
        ):
            try:
                await path()
            except fusewire.FusewireError:
                pass

    async def main() -> tuple[float, float, int]:
        await work()  # connected, scripts loaded
        assert server.proc is not None
        server.proc.send_signal(signal.SIGSTOP)
        try:
            return await _ticking(work, 1.0)
        finally:
            server.proc.send_signal(signal.SIGCONT)
            await store.aclose()

    before = store.errors
    gap, slowest, calls = asyncio.run(main())
    assert store.errors - before >= calls, "every decision answered by on_error"
    assert store._failures >= 2, "Redis asked again after the backoff, and timed out again"
    assert gap < timeout / 2, f"the loop stalled {gap:.3f} s"
    assert slowest < 3 * (timeout + 0.1), f"a call took {slowest:.3f} s"


@pytest.mark.parametrize("policy", ["fail_open", "fail_closed", "local"])
def test_each_on_error_under_asyncio(server: RedisServer, url: str, policy: str) -> None:
    store = RedisStore(url, timeout=0.05, on_error=policy)  # type: ignore[arg-type]
    breaker = CircuitBreaker(store=store, name=f"oe-{policy}", min_calls=1, open_duration=30.0)
    bucket = TokenBucket(1, 3600.0, burst=2, store=store, name=f"oe-{policy}")
    bulk = Bulkhead(1, store=store, name=f"oe-{policy}")

    async def outcome(make: Callable[[], Awaitable[object]]) -> str:
        t = time.monotonic()
        try:
            await make()
            said = "ok"
        except fusewire.FusewireError as e:
            said = type(e).__name__
        except OSError:
            said = "failed"
        assert time.monotonic() - t < 0.2, "answered within the timeout"
        return said

    async def fail() -> None:
        raise OSError("down")

    async def main() -> list[str]:
        said = []
        said.append(await outcome(lambda: breaker.call_async(fail)))
        said.append(await outcome(lambda: breaker.call_async(asyncio.sleep, 0)))
        for _ in range(3):
            said.append(await outcome(lambda: bucket.call_async(asyncio.sleep, 0)))

        async def nested() -> None:
            async with bulk:
                await bulk.call_async(asyncio.sleep, 0)

        said.append(await outcome(nested))
        return said

    server.stop()
    try:
        said = asyncio.run(main())
    finally:
        server.start()
    if policy == "fail_open":
        assert said == ["failed", "ok", "ok", "ok", "ok", "ok"]
    elif policy == "fail_closed":
        assert said == ["CircuitOpenError"] * 2 + ["RateLimited"] * 3 + ["BulkheadFull"]
    else:  # in-process policies of the same config: trip at 1, burst 2, 1 slot
        assert said == ["failed", "CircuitOpenError", "ok", "ok", "RateLimited", "BulkheadFull"]


def test_sync_and_async_paths_of_one_process_in_two_threads(url: str) -> None:
    store = RedisStore(url, timeout=1.0)
    burst, rate = 10, 50
    r = redis.Redis.from_url(url)
    bucket = TokenBucket(rate, 1.0, burst=burst, store=store, name="both")
    breaker = CircuitBreaker(store=store, name="both")
    seconds = 1.5
    got = {"sync": 0, "async": 0}
    errors: list[BaseException] = []

    def sync_side() -> None:
        try:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                with breaker:
                    got["sync"] += bucket.try_acquire()
        except BaseException as e:  # reported below
            errors.append(e)

    async def one(end: float) -> None:
        while time.monotonic() < end:
            async with breaker:
                try:
                    await bucket.call_async(asyncio.sleep, 0)
                    got["async"] += 1
                except fusewire.RateLimited:
                    pass

    async def async_side() -> None:
        end = time.monotonic() + seconds
        await asyncio.gather(*(one(end) for _ in range(4)))

    def in_loop() -> None:
        try:
            asyncio.run(async_side())
        except BaseException as e:  # reported below
            errors.append(e)

    t0 = r.time()
    threads = [threading.Thread(target=sync_side), threading.Thread(target=in_loop)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    t1 = r.time()
    assert not errors
    elapsed = (t1[0] - t0[0]) + (t1[1] - t0[1]) / 1e6
    assert got["sync"] + got["async"] <= burst + rate * elapsed
    assert got["sync"] > 0 and got["async"] > 0
    assert store.errors == 0
    assert breaker.snapshot()["successes"] > 0
    assert not store._aclients, "the thread's loop closed its client"
    store.close()


def _tasks(url: str, seconds: float, q: Any) -> None:
    async def main() -> int:
        store = RedisStore(url, timeout=1.0)
        bucket = TokenBucket(100, 1.0, burst=20, store=store, name="fleet-async")
        end = time.monotonic() + seconds
        granted = 0

        async def one() -> None:
            nonlocal granted
            while time.monotonic() < end:
                try:
                    async with bucket:
                        granted += 1
                except fusewire.RateLimited:
                    await asyncio.sleep(0)

        await asyncio.gather(*(one() for _ in range(8)))
        return granted

    q.put(asyncio.run(main()))


def test_asyncio_tasks_in_two_processes_never_exceed_burst_plus_rate(url: str) -> None:
    q = CTX.Queue()
    seconds = 3.0
    procs = [CTX.Process(target=_tasks, args=(url, seconds, q)) for _ in range(2)]
    r = redis.Redis.from_url(url)
    t0 = r.time()
    for p in procs:
        p.start()
    total = sum(q.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(10)
    t1 = r.time()
    elapsed = (t1[0] - t0[0]) + (t1[1] - t0[1]) / 1e6
    assert total <= 20 + 100 * elapsed
    assert total >= 100 * seconds * 0.8, "the tasks did take what the bucket had"


def test_async_generator_functions_await_redis_too(url: str) -> None:
    store = RedisStore(url)
    breaker = CircuitBreaker(store=store, name="gen", min_calls=1, open_duration=30.0)
    bucket = TokenBucket(1, 3600.0, burst=2, store=store, name="gen")
    bulk = Bulkhead(1, store=store, name="gen")
    _no_sync_round_trip(store)

    @breaker
    async def stream() -> Any:
        yield 1
        raise OSError("mid-stream")

    @bulk
    async def held() -> Any:
        yield 1

    @bucket
    async def taken() -> Any:
        yield 4

    async def main() -> None:
        got = []
        with pytest.raises(OSError):
            async for x in stream():
                got.append(x)
        assert got == [1]
        with pytest.raises(fusewire.CircuitOpenError):
            async for _ in stream():
                pass
        assert [x async for x in held()] == [1]
        assert [x async for x in taken()] == [4]
        assert [x async for x in taken()] == [4]
        with pytest.raises(fusewire.RateLimited):
            async for _ in taken():
                pass
        await store.aclose()

    asyncio.run(main())


def test_calls_cancelled_while_redis_stalls_leave_the_store_usable(
    server: RedisServer, url: str
) -> None:
    store = RedisStore(url, timeout=1.0)
    bucket = TokenBucket(100, 1.0, store=store, name="cancel")
    breaker = CircuitBreaker(store=store, name="cancel")

    async def main() -> None:
        await bucket.call_async(asyncio.sleep, 0)  # connected, scripts loaded
        assert server.proc is not None
        server.proc.send_signal(signal.SIGSTOP)
        try:
            tasks = [
                asyncio.create_task(policy.call_async(asyncio.sleep, 0))
                for policy in (bucket, breaker)
                for _ in range(4)
            ]
            await asyncio.sleep(0.05)
            for t in tasks:
                t.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert all(isinstance(r, asyncio.CancelledError) for r in results)
        finally:
            server.proc.send_signal(signal.SIGCONT)
        for _ in range(3):
            await bucket.call_async(asyncio.sleep, 0)
            async with breaker:
                pass
        await store.aclose()

    asyncio.run(main())
    assert store.errors == 0, "a cancelled call is not an outage"
    assert breaker.snapshot()["successes"] == 3


def test_close_from_another_thread_closes_a_running_loops_client(url: str) -> None:
    store = RedisStore(url)
    bucket = TokenBucket(100, 1.0, store=store, name="closer")
    ready, done = threading.Event(), threading.Event()

    async def serve() -> int:
        await bucket.call_async(asyncio.sleep, 0)
        ready.set()
        while not done.is_set():
            await asyncio.sleep(0.005)
        await bucket.call_async(asyncio.sleep, 0)  # a fresh client after close()
        return len(store._aclients)

    out: list[int] = []
    t = threading.Thread(target=lambda: out.append(asyncio.run(serve())))
    t.start()
    assert ready.wait(10)
    assert len(store._aclients) == 1
    store.close()  # from this thread: the loop's client is closed on its loop
    assert not store._aclients
    done.set()
    t.join(10)
    assert out == [1] and not store._aclients, "the second client closed with its loop"


def test_a_client_you_pass_answers_async_calls_from_a_worker_thread(url: str) -> None:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis.from_url(url, socket_timeout=0.2, retry=Retry(NoBackoff(), 0))
    store = RedisStore(client)
    bucket = TokenBucket(1, 3600.0, burst=2, store=store, name="yours")

    async def main() -> list[bool]:
        said = []
        for _ in range(3):
            try:
                await bucket.call_async(asyncio.sleep, 0)
                said.append(True)
            except fusewire.RateLimited:
                said.append(False)
        return said

    assert asyncio.run(main()) == [True, True, False]
    assert not store._aclients, "no redis.asyncio client of its own"


def test_lease_mode_under_asyncio_spends_locally_and_aclose_hands_back(url: str) -> None:
    leased = RedisStore(url, lease=10)
    a = TokenBucket(1, 3600.0, burst=10, store=leased, name="lease-async")
    b = TokenBucket(1, 3600.0, burst=10, store=RedisStore(url), name="lease-async")
    _no_sync_round_trip(leased)

    async def main() -> int:
        for _ in range(3):
            async with a:
                pass
        trips = leased.round_trips
        await leased.aclose()  # the 7 unused tokens go back, awaited
        return trips

    before = leased.round_trips
    assert asyncio.run(main()) - before == 1, "three tokens, one round trip"
    assert b.available == 7

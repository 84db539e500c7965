"""Many callers at once: exactly the configured probes pass, and no lock is
held while a user's function runs."""

from __future__ import annotations

import asyncio
import threading

import pytest
from conftest import FakeClock
from fusewire import Bulkhead, CircuitBreaker, CircuitOpenError, State, TokenBucket


def opened(clock: FakeClock, probes: int) -> CircuitBreaker:
    b = CircuitBreaker(min_calls=1, open_duration=5.0, half_open_probes=probes, clock=clock)
    with pytest.raises(ZeroDivisionError):
        b.call(lambda: 1 / 0)
    clock.advance(5.0)
    return b


@pytest.mark.parametrize("probes", [1, 3, 7])
def test_fifty_threads_race_for_half_open_probes(clock: FakeClock, probes: int) -> None:
    b = opened(clock, probes)
    start = threading.Barrier(50)
    all_tried = threading.Barrier(probes + 1, timeout=10)  # the probes and the main thread
    passed: list[int] = []
    rejected: list[int] = []
    errors: list[BaseException] = []

    def probe(i: int) -> None:
        passed.append(i)
        all_tried.wait()  # hold the probe slot until every thread has tried

    def worker(i: int) -> None:
        start.wait()
        try:
            b.call(probe, i)
        except CircuitOpenError:
            rejected.append(i)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    while len(passed) + len(rejected) < 50 and not errors:
        threading.Event().wait(0.001)
    all_tried.wait()
    for t in threads:
        t.join()
    assert not errors
    assert len(passed) == probes
    assert len(rejected) == 50 - probes
    assert b.state is State.CLOSED


@pytest.mark.parametrize("probes", [1, 4])
def test_five_hundred_tasks_race_for_half_open_probes(clock: FakeClock, probes: int) -> None:
    b = opened(clock, probes)

    async def main() -> tuple[int, int]:
        gate = asyncio.Event()
        passed = 0

        async def probe() -> None:
            nonlocal passed
            passed += 1
            await gate.wait()

        tasks = [asyncio.create_task(b.call_async(probe)) for _ in range(500)]
        await asyncio.sleep(0.01)
        gate.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        rejected = sum(isinstance(r, CircuitOpenError) for r in results)
        assert all(r is None or isinstance(r, CircuitOpenError) for r in results)
        return passed, rejected

    passed, rejected = asyncio.run(main())
    assert (passed, rejected) == (probes, 500 - probes)
    assert b.state is State.CLOSED


def test_no_lock_is_held_while_the_function_runs(clock: FakeClock) -> None:
    b = CircuitBreaker(clock=clock)
    inner_done = threading.Event()

    def outer() -> str:
        # Another thread uses the same breaker while this call is running.
        t = threading.Thread(target=lambda: (b.call(lambda: None), inner_done.set()))
        t.start()
        assert inner_done.wait(5), "the breaker was locked during the user's call"
        t.join()
        # And the function may re-enter the breaker itself.
        return str(b.call(lambda: "re-entered"))

    assert b.call(outer) == "re-entered"
    assert b.snapshot()["successes"] == 3


def test_threads_share_context_managers(clock: FakeClock) -> None:
    b = CircuitBreaker(clock=clock)
    bh = Bulkhead(8)
    bucket = TokenBucket(1000, 1.0, clock=clock)
    gate = threading.Barrier(8)

    def worker() -> None:
        for _ in range(100):
            with b, bh:
                bucket.try_acquire()
        gate.wait()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert b.snapshot()["successes"] == 100  # the window keeps the last 100
    assert bh.in_use == 0
    assert bucket.available == 200

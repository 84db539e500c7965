"""`with breaker:` / `async with breaker:` blocks: each entered block settles
exactly one permit, even one left in another thread or task, and the error
then says what happened."""

from __future__ import annotations

import asyncio
import gc
import threading

import pytest
from conftest import FakeClock
from fusewire import CircuitBreaker, State


def half_open(clock: FakeClock) -> CircuitBreaker:
    b = CircuitBreaker(consecutive_failures=1, open_duration=10.0, clock=clock)
    b.trip()
    clock.advance(10.0)
    assert b.state is State.HALF_OPEN
    return b


def test_a_block_exited_in_another_thread_heals_and_says_so(clock: FakeClock) -> None:
    b = half_open(clock)
    b.__enter__()  # the probe
    assert b.snapshot()["probes_in_flight"] == 1
    errors: list[BaseException] = []

    def leave() -> None:
        try:
            b.__exit__(None, None, None)
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=leave)
    t.start()
    t.join()
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
    assert "another thread or asyncio task" in str(errors[0])
    assert "settled the oldest open block in its place" in str(errors[0])
    assert b.state is State.CLOSED  # the probe's success was counted
    assert b.snapshot()["probes_in_flight"] == 0


def test_an_async_block_exited_in_another_task_heals(clock: FakeClock) -> None:
    b = half_open(clock)

    async def main() -> BaseException | None:
        entered = asyncio.Event()

        async def enter() -> None:
            await b.__aenter__()
            entered.set()

        async def leave() -> BaseException | None:
            await entered.wait()
            try:
                await b.__aexit__(KeyError, KeyError("gone"), None)
            except RuntimeError as e:
                return e
            return None

        _, err = await asyncio.gather(enter(), leave())
        return err

    err = asyncio.run(main())
    assert err is not None and "asyncio task" in str(err)
    assert b.state is State.OPEN  # the probe's failure was counted


def test_nested_and_interleaved_blocks_settle_their_own_permits(clock: FakeClock) -> None:
    b = CircuitBreaker(consecutive_failures=3, clock=clock)
    other = CircuitBreaker(consecutive_failures=1, clock=clock)
    with pytest.raises(KeyError), b:
        with other:
            pass
        raise KeyError
    assert b.snapshot()["failures"] == 1 and other.snapshot()["successes"] == 1
    assert other.state is State.CLOSED


def test_many_short_lived_breakers_used_with_with_leave_nothing_behind() -> None:
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(2000):
        b = CircuitBreaker()
        with b:
            pass
    gc.collect()
    assert len(gc.get_objects()) - before < 100

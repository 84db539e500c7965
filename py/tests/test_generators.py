"""Generators, async generators and sync callables returning coroutines are
guarded for the whole await or iteration (as pybreaker and circuitbreaker
do), or refused with a clear error: never counted when merely created."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from conftest import FakeClock
from fusewire import Bulkhead, CircuitBreaker, CircuitOpenError, Retrying, State, TokenBucket


def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(consecutive_failures=1, open_duration=10.0, clock=clock)


def test_a_failure_mid_stream_is_counted(clock: FakeClock) -> None:
    b = breaker(clock)

    @b
    def rows() -> Iterator[int]:
        yield 1
        raise OSError("connection reset")

    assert inspect.isgeneratorfunction(rows)
    it = rows()
    assert b.snapshot()["successes"] == 0  # nothing counted at creation
    assert next(it) == 1
    with pytest.raises(OSError):
        next(it)
    assert b.state is State.OPEN
    with pytest.raises(CircuitOpenError):
        next(rows())  # refused at the first item


def test_a_whole_stream_is_one_success_and_send_passes_through(clock: FakeClock) -> None:
    b = breaker(clock)

    @b
    def echo() -> Any:
        got = yield "ready"
        while got is not None:
            got = yield got * 2
        return "done"

    it = echo()
    assert next(it) == "ready"
    assert it.send(3) == 6
    with pytest.raises(StopIteration) as stop:
        it.send(None)
    assert stop.value.value == "done"
    assert b.snapshot()["successes"] == 1


def test_closing_a_stream_early_hands_the_probe_back(clock: FakeClock) -> None:
    b = breaker(clock)
    b.trip()
    clock.advance(10.0)

    @b
    def rows() -> Iterator[int]:
        yield from range(10)

    it = rows()
    next(it)
    assert b.snapshot()["probes_in_flight"] == 1
    it.close()
    assert b.snapshot()["probes_in_flight"] == 0
    assert b.state is State.HALF_OPEN


def test_an_async_generator_failure_mid_stream_is_counted(clock: FakeClock) -> None:
    b = breaker(clock)

    @b
    async def rows() -> AsyncIterator[int]:
        yield 1
        raise OSError("reset")

    assert inspect.isasyncgenfunction(rows)

    async def main() -> list[int]:
        got: list[int] = []
        with pytest.raises(OSError):
            async for r in rows():
                got.append(r)
        return got

    assert asyncio.run(main()) == [1]
    assert b.state is State.OPEN


def test_a_bulkhead_holds_its_slot_for_the_whole_stream() -> None:
    bulkhead = Bulkhead(1)

    @bulkhead
    def rows() -> Iterator[int]:
        yield 1
        yield 2

    it = rows()
    assert bulkhead.in_use == 0
    next(it)
    assert bulkhead.in_use == 1
    assert list(it) == [2]
    assert bulkhead.in_use == 0


def test_retrying_a_generator_is_refused_at_decoration() -> None:
    def rows() -> Iterator[int]:
        yield 1

    with pytest.raises(TypeError, match="cannot guard a generator"):
        Retrying()(rows)


async def _fails(box: list[int]) -> int:
    box.append(1)
    raise OSError("down")


SYNC_RETURNING_COROUTINES: list[Callable[[list[int]], Callable[[], Awaitable[int]]]] = [
    lambda box: functools.partial(_fails, box),  # detected at decoration
    lambda box: lambda: _fails(box),  # only seen when called
]


@pytest.mark.parametrize("make", SYNC_RETURNING_COROUTINES)
def test_a_sync_callable_returning_a_coroutine_is_guarded_when_awaited(
    clock: FakeClock, make: Callable[[list[int]], Callable[[], Awaitable[int]]]
) -> None:
    b = breaker(clock)
    box: list[int] = []
    guarded = b(make(box))
    awaitable = guarded()
    assert b.snapshot()["successes"] == 0  # no success at creation
    with pytest.raises(OSError):
        asyncio.run(_await(awaitable))
    assert box == [1] and b.state is State.OPEN


@pytest.mark.parametrize("make", SYNC_RETURNING_COROUTINES)
def test_retry_retries_a_sync_callable_returning_coroutines(
    make: Callable[[list[int]], Callable[[], Awaitable[int]]],
) -> None:
    box: list[int] = []

    async def no_sleep(_: float) -> None:
        return None

    policy = Retrying(max_attempts=3, reraise=True, async_sleep=no_sleep)
    with pytest.raises(OSError):
        asyncio.run(_await(policy(make(box))()))
    assert box == [1, 1, 1]


def test_a_sync_callable_returning_a_generator_is_guarded(clock: FakeClock) -> None:
    b = breaker(clock)

    def rows() -> Iterator[int]:
        yield 1
        raise OSError

    guarded = b(lambda: rows())
    it = guarded()
    assert b.snapshot()["successes"] == 0
    with pytest.raises(OSError):
        list(it)
    assert b.state is State.OPEN
    with pytest.raises(TypeError, match="cannot guard a generator"):
        Retrying()(lambda: rows())()


def test_a_bucket_passes_a_generator_through_after_taking_its_token() -> None:
    bucket = TokenBucket(1, 60.0)

    def rows() -> Iterator[int]:
        yield 1

    assert list(bucket(lambda: rows())()) == [1]
    assert bucket.available == 0


async def _await(a: Awaitable[Any]) -> Any:
    return await a

from __future__ import annotations

import asyncio
import math
import threading
import time

import pytest
from conftest import FakeClock
from fusewire import Bulkhead, BulkheadFull, ConfigError, FusewireError, RateLimited, TokenBucket


def test_bucket_starts_full_and_refills(clock: FakeClock) -> None:
    b = TokenBucket(2, 1.0, burst=4, clock=clock)
    assert b.available == 4
    assert [b.try_acquire() for _ in range(5)] == [True] * 4 + [False]
    with pytest.raises(RateLimited) as info:
        b.acquire()
    assert info.value.retry_after == pytest.approx(0.5)
    assert isinstance(info.value, FusewireError)
    clock.advance(0.5)
    b.acquire()
    clock.advance(10)
    assert b.available == 4
    b.acquire(4)
    b.refund(2)
    assert b.available == 2
    with pytest.raises(ValueError, match="burst"):
        b.acquire(5)


def test_bucket_call_decorator_and_context_managers(clock: FakeClock) -> None:
    b = TokenBucket(3, 60.0, clock=clock)

    @b
    def f(x: int) -> int:
        return x

    assert f(1) == 1
    assert b.call(f.__wrapped__, 2) == 2  # type: ignore[attr-defined]
    with b:
        pass
    with pytest.raises(RateLimited), b:
        pass

    async def main() -> None:
        @b
        async def g() -> int:
            return 1

        with pytest.raises(RateLimited):
            await g()
        with pytest.raises(RateLimited):
            async with b:
                pass
        with pytest.raises(RateLimited):
            await b.call_async(g)

    asyncio.run(main())


def test_bucket_wait_sleeps_for_real() -> None:
    b = TokenBucket(100, 1.0, burst=1)
    b.acquire()
    t0 = time.monotonic()
    b.wait()
    assert time.monotonic() - t0 >= 0.005
    with pytest.raises(RateLimited):
        b.wait(timeout=0.0)

    async def main() -> None:
        await b.wait_async(timeout=1.0)
        with pytest.raises(RateLimited):
            await b.wait_async(timeout=0.0)

    asyncio.run(main())


def test_bucket_set_rate_and_errors(clock: FakeClock) -> None:
    b = TokenBucket(1, 1.0, clock=clock)
    b.set_rate(10, 1.0)
    with pytest.raises(ConfigError) as info:
        TokenBucket(0)
    assert info.value.field == "rate"
    with pytest.raises(ConfigError) as info:
        TokenBucket(1, 0.0)
    assert info.value.field == "per"
    with pytest.raises(ConfigError) as info:
        TokenBucket(1, burst=0)
    assert info.value.field == "burst"


def test_bulkhead_limits_and_priorities() -> None:
    bh = Bulkhead(3, reserve_critical=1)
    a = bh.try_acquire()
    b = bh.try_acquire()
    assert a is not None and b is not None and a.priority == "normal"
    assert bh.try_acquire() is None  # the last slot is kept for critical calls
    with pytest.raises(BulkheadFull) as info:
        bh.acquire()
    assert (info.value.priority, info.value.in_use) == ("normal", 2)
    with bh.slot("critical") as held:
        assert bh.available == 0 and held.priority == "critical"
    bh.release(a)
    bh.release(b)
    with pytest.raises(ValueError, match="not held"):
        bh.release(b)
    with pytest.raises(TypeError, match="slot"):
        bh.release("normal")  # type: ignore[arg-type]
    assert (bh.in_use, bh.max_concurrent) == (0, 3)


def test_a_slot_never_released_is_freed_after_its_lease(clock: FakeClock) -> None:
    bh = Bulkhead(1, lease=10.0, clock=clock)
    lost = bh.acquire()
    assert bh.try_acquire() is None
    clock.advance(5.0)  # held for more than half its lease (epochs of 5 s)
    assert bh.try_acquire() is None
    clock.advance(5.0)  # and free within one lease
    again = bh.try_acquire()
    assert again is not None and bh.reclaimed == 1
    bh.release(lost)  # late: already freed, counted, not raised
    assert bh.expired_releases == 1 and bh.in_use == 1
    bh.release(again)
    assert bh.in_use == 0


def test_a_bulkhead_block_exited_in_another_thread_heals() -> None:
    import threading

    bh = Bulkhead(1)
    bh.__enter__()
    errors: list[BaseException] = []

    def leave() -> None:
        try:
            bh.__exit__(None, None, None)
        except RuntimeError as e:
            errors.append(e)

    t = threading.Thread(target=leave)
    t.start()
    t.join()
    assert errors and "another thread or asyncio task" in str(errors[0])
    assert bh.in_use == 0


def test_bulkhead_decorator_call_and_context_managers() -> None:
    bh = Bulkhead(1)

    @bh
    def inner() -> int:
        with pytest.raises(BulkheadFull):
            bh.call(lambda: None)
        return 1

    assert inner() == 1
    assert bh.in_use == 0
    with pytest.raises(ZeroDivisionError):
        bh.call(lambda: 1 / 0)
    assert bh.in_use == 0

    async def main() -> None:
        @bh
        async def g() -> int:
            await asyncio.sleep(0)
            return 2

        assert await g() == 2
        async with bh:
            with pytest.raises(BulkheadFull):
                await g()
        async with bh.slot():
            pass
        results = await asyncio.gather(*(g() for _ in range(5)), return_exceptions=True)
        assert results.count(2) == 1

    asyncio.run(main())
    assert bh.in_use == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_concurrent": 0}, "max_concurrent"),
        ({"max_concurrent": 2, "reserve_critical": 2}, "reserve_critical"),
        ({"max_concurrent": 3, "reserve_critical": 1, "reserve_normal": 2}, "reserve_normal"),
    ],
)
def test_bulkhead_config_errors(kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        Bulkhead(**kwargs)
    assert info.value.field == field
    with pytest.raises(ConfigError) as info2:
        Bulkhead(1).acquire("urgent")
    assert info2.value.field == "priority"


def test_wait_on_a_bucket_that_never_refills_waits_instead_of_raising_oserror() -> None:
    # the wait the core answers (about 292 years) was handed to time.sleep,
    # which refused it with OSError(EINVAL) at once
    bucket = TokenBucket(1, math.inf)
    bucket.wait()
    raised: list[BaseException] = []

    def waiter() -> None:
        try:
            bucket.wait()
        except BaseException as e:  # recorded for the assertion
            raised.append(e)

    t = threading.Thread(target=waiter, daemon=True)
    t.start()
    t.join(0.3)
    assert raised == [] and t.is_alive(), raised
    with pytest.raises(RateLimited):
        bucket.wait(timeout=0.01)

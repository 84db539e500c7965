"""`TokenBucket` and `Bulkhead`: rate and concurrency limits."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from types import TracebackType
from typing import Any, Literal, TypeVar

from . import _native
from ._errors import BulkheadFull, ConfigError, RateLimited
from ._types import ParamSpec
from ._wrap import ByConfig, TaskBlocks, decorate

__all__ = ["Bulkhead", "KeyedTokenBucket", "TokenBucket"]

_Priority = Literal["critical", "normal", "sheddable"]
P = ParamSpec("P")
R = TypeVar("R")


def _deadline(timeout: float | None) -> float:
    if timeout is None:
        return math.inf
    if timeout < 0 or math.isnan(timeout):
        raise ValueError("timeout: must be a non-negative number of seconds or None")
    return time.monotonic() + timeout


_LONGEST_SLEEP = 86400.0


class TokenBucket(ByConfig, _native.TokenBucket):
    """``rate`` tokens every ``per`` seconds, up to ``burst`` (default ``rate``) at once.

    ``acquire()``, ``call()``, ``with bucket:``, ``async with bucket:`` and the
    decorator take a token or raise ``RateLimited`` at once (shed load);
    ``wait()`` / ``await wait_async()`` sleep until tokens are there.
    """

    def wait(self, n: int = 1, *, timeout: float | None = None) -> None:
        """Takes ``n`` tokens, sleeping until they are there (at most ``timeout`` s)."""
        deadline = _deadline(timeout)
        while True:
            delay = self.take(n)
            if delay == 0.0:
                return
            if time.monotonic() + delay > deadline:
                raise RateLimited(delay)
            # at most a day at a time: time.sleep refuses a wait of about
            # 300 years (OSError), which a bucket that never refills
            # (per=math.inf) answers; the loop asks again
            time.sleep(min(delay, _LONGEST_SLEEP))

    _ab: Any

    async def _atake(self, n: int) -> float:
        """``take`` on the async paths: awaited over a ``RedisStore``."""
        backend = self._ab
        if backend is None:
            return self.take(n)
        ns: int = await backend.atake(self._n(n))
        return ns / 1e9

    async def _aacquire(self) -> None:
        backend = self._ab
        if backend is None:
            self.acquire()
            return
        delay = await self._atake(1)
        if delay:
            raise RateLimited(delay)

    async def wait_async(self, n: int = 1, *, timeout: float | None = None) -> None:
        """``wait`` with ``asyncio.sleep``."""
        deadline = _deadline(timeout)
        store = self._ab is not None
        while True:
            delay = await self._atake(n) if store else self.take(n)
            if delay == 0.0:
                return
            if time.monotonic() + delay > deadline:
                raise RateLimited(delay)
            await asyncio.sleep(min(delay, _LONGEST_SLEEP))

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        return decorate(self, func)

    async def call_async(
        self, func: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Takes a token (or raises ``RateLimited``), then awaits ``func``."""
        if self._ab is None:
            self.acquire()
        else:
            await self._aacquire()
        return await func(*args, **kwargs)

    def __enter__(self) -> TokenBucket:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def __aenter__(self) -> TokenBucket:
        if self._ab is None:
            self.acquire()
        else:
            await self._aacquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class _SlotBlock:
    """``with bulkhead.slot("critical"):`` — one slot of a priority."""

    __slots__ = ("_bulkhead", "_held", "_priority")

    def __init__(self, bulkhead: Bulkhead, priority: _Priority) -> None:
        self._bulkhead = bulkhead
        self._priority: _Priority = priority
        self._held: _native.Slot | None = None

    def __enter__(self) -> _native.Slot:
        self._held = self._bulkhead.acquire(self._priority)
        return self._held

    def __exit__(self, *exc: object) -> None:
        held, self._held = self._held, None
        if held is not None:
            self._bulkhead.release(held)

    async def __aenter__(self) -> _native.Slot:
        if self._bulkhead._ab is None:
            return self.__enter__()
        self._held = await self._bulkhead._aacquire(self._priority)
        return self._held

    async def __aexit__(self, *exc: object) -> None:
        if self._bulkhead._ab is None:
            self.__exit__()
            return
        held, self._held = self._held, None
        if held is not None:
            await self._bulkhead._arelease(held)


class Bulkhead(ByConfig, _native.Bulkhead):
    """At most ``max_concurrent`` calls at once, the last ``reserve_critical``
    slots kept for critical calls and ``reserve_normal`` more for normal ones.

    A full bulkhead raises ``BulkheadFull`` at once (no queue). A slot never
    handed back is freed within ``lease`` seconds (default 60; after more
    than half of it, so set it to at least twice the longest call), so a
    lost release or a killed process cannot shrink the bulkhead for good.
    """

    _ab: Any
    _ablocks: TaskBlocks

    async def _aacquire(self, priority: _Priority = "normal") -> _native.Slot:
        """``acquire`` on the async paths: awaited over a ``RedisStore``."""
        backend = self._ab
        if backend is None:
            return self.acquire(priority)
        p = self._priority(priority)
        raw = await backend.aacquire(p)
        if raw is None:
            raise BulkheadFull(p, await backend.ain_use())
        return self._slot(raw)

    async def _arelease(self, slot: _native.Slot) -> None:
        backend = self._ab
        if backend is None:
            self.release(slot)
            return
        self._released(await backend.arelease(self._slot_raw(slot)))

    def slot(self, priority: _Priority = "normal") -> _SlotBlock:
        """A context manager (sync and async) holding one slot of ``priority``."""
        return _SlotBlock(self, priority)

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        return decorate(self, func)

    async def call_async(
        self, func: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Awaits ``func`` in a normal slot, or raises ``BulkheadFull``."""
        if self._ab is None:
            slot = self.acquire()
            try:
                return await func(*args, **kwargs)
            finally:
                self.release(slot)
        slot = await self._aacquire()
        try:
            return await func(*args, **kwargs)
        finally:
            await self._arelease(slot)

    # `with bulkhead:` is native: each block's slot is kept with its owner.
    # Over a RedisStore, `async with` awaits the backend instead.
    async def __aenter__(self) -> Bulkhead:
        if self._ab is None:
            return self.__enter__()
        self._ablocks.push(await self._aacquire())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ab is None:
            self.__exit__(exc_type, exc, tb)
            return
        await self._arelease(self._ablocks.pop(self))


class KeyedTokenBucket:
    """One ``TokenBucket(rate, per, burst=burst)`` per key (a user, a
    tenant, an IP), in bounded memory: at most ``max_keys`` buckets, the
    least recently used dropped first. A dropped key starts again with a full
    bucket, so size ``max_keys`` above the keys active within one refill
    period (``per * burst / rate`` seconds).

    ``bucket.acquire(key)`` takes a token or raises ``RateLimited``;
    ``try_acquire(key)`` says whether it did; ``take(key)`` returns 0.0 or
    the seconds to wait. ``clock=`` is passed to every bucket.
    """

    def __init__(
        self,
        rate: int,
        per: float = 1.0,
        *,
        burst: int | None = None,
        max_keys: int = 10_000,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if isinstance(max_keys, bool) or not isinstance(max_keys, int):
            raise TypeError("max_keys: expected an int")
        if max_keys < 1:
            raise ConfigError("max_keys", "must be at least 1")
        self._args = (rate, per, burst, clock)
        self._make()  # validates rate, per, burst and clock once, here
        self._buckets: OrderedDict[Hashable, TokenBucket] = OrderedDict()
        self._lock = threading.Lock()
        self.max_keys = max_keys

    def _make(self) -> TokenBucket:
        rate, per, burst, clock = self._args
        return TokenBucket(rate, per, burst=burst, clock=clock)

    def bucket(self, key: Hashable) -> TokenBucket:
        """The bucket of ``key`` (made full on first use)."""
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                b = self._buckets[key] = self._make()
                if len(self._buckets) > self.max_keys:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
            return b

    def acquire(self, key: Hashable, n: int = 1) -> None:
        """Takes ``n`` tokens of ``key`` or raises ``RateLimited``."""
        self.bucket(key).acquire(n)

    def try_acquire(self, key: Hashable, n: int = 1) -> bool:
        """Takes ``n`` tokens of ``key`` if they are there; says whether it did."""
        return self.bucket(key).try_acquire(n)

    def take(self, key: Hashable, n: int = 1) -> float:
        """0.0 when ``n`` tokens of ``key`` were taken, else the seconds to wait."""
        return self.bucket(key).take(n)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickles by config: the other side starts with no keys."""
        rate, per, burst, clock = self._args
        return (_keyed, (rate, per, burst, self.max_keys, clock))

    def __len__(self) -> int:
        return len(self._buckets)

    def __contains__(self, key: object) -> bool:
        return key in self._buckets


def _keyed(
    rate: int, per: float, burst: int | None, max_keys: int, clock: Callable[[], float] | None
) -> KeyedTokenBucket:
    return KeyedTokenBucket(rate, per, burst=burst, max_keys=max_keys, clock=clock)

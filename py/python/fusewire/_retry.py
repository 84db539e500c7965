"""`Retrying` and `retry()`: backoff, deadline and budget, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, Callable, TypeVar, overload

from . import _native
from ._types import ParamSpec
from ._wrap import ByConfig, decorate

__all__ = ["Retrying", "retry"]

P = ParamSpec("P")
R = TypeVar("R")


class Retrying(ByConfig, _native.Retrying):
    """A retry policy: ``@policy``, ``policy.call(f, ...)``, ``await policy.call_async(f, ...)``.

    Sync calls sleep with ``time.sleep`` (or ``sleep=``), async calls with
    ``asyncio.sleep`` (or ``async_sleep=``); delays come from ``backoff``.
    """

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        return decorate(self, func)

    async def call_async(
        self, func: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Awaits ``func(*args, **kwargs)``, retrying as configured."""
        run = self._begin()
        sleep = self._async_sleep or asyncio.sleep
        while True:
            try:
                result = await func(*args, **kwargs)
            except Exception as exc:
                delay = run.failure(exc)
                if delay is None:
                    raise
                await sleep(delay)
            else:
                run.success()
                return result


@overload
def retry(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def retry(
    *,
    max_attempts: int = 3,
    max_elapsed: float | None = None,
    backoff: _native.Backoff | None = None,
    retry_on: Any = None,
    budget: _native.RetryBudget | None = None,
    reraise: bool = False,
    honor_retry_after: bool = True,
    seed: int | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], object] | None = None,
    async_sleep: Callable[[float], Awaitable[object]] | None = None,
    before_sleep: Callable[[int, float, BaseException], object] | None = None,
) -> Retrying: ...


def retry(func: Any = None, /, **options: Any) -> Retrying | Callable[..., Any]:
    """``@retry`` (defaults) or ``@retry(max_attempts=5, ...)`` on sync or async functions."""
    policy = Retrying(**options)
    if func is not None:
        return policy(func)
    return policy

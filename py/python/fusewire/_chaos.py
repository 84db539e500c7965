"""``Chaos``: seeded fault, latency, substitute and behaviour injection, as a
decorator and a (sync or async) context manager. The core decides each
call (a pure function of the seed and the call index); this module sleeps,
runs the behaviour, raises the fault or returns the substitute."""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar, cast

from . import _native
from ._errors import ChaosFault
from ._types import ParamSpec
from ._wrap import ByConfig, is_async

__all__ = ["Chaos"]

P = ParamSpec("P")
R = TypeVar("R")

_NO_BLOCK_SUBSTITUTE = (
    "a `with` block has no result to substitute: use the chaos as a decorator, "
    "or set substitute_rate=0 for blocks"
)


class Chaos(ByConfig, _native.Chaos):
    """Injects faults, delays, substitute results and behaviours into calls,
    at the given rates (percentages), once switched on (``enabled=True`` or
    ``set_enabled(True)``). ``@chaos`` on sync or async functions,
    ``with chaos:`` / ``async with chaos:`` around a block.

    ``fault``: the exception to raise (an instance, a class, or a callable
    returning one; default ``ChaosFault``); ``substitute``: called with the
    call's arguments, its value is returned instead of running the call;
    ``behavior``: run before the call (its awaitable is awaited in async
    calls); ``latency_min``/``latency_max``: seconds. The seed comes from
    ``os.urandom`` unless ``seed=`` is given; ``chaos.seed`` replays a run.
    """

    def _fault(self) -> BaseException:
        fault = self._host[0]
        if fault is None:
            return ChaosFault("chaos: injected fault")
        if isinstance(fault, BaseException):
            return fault
        made = fault()
        if not isinstance(made, BaseException):
            raise TypeError(f"fault: expected an exception, its class or a factory, got {made!r}")
        return made

    def _before(self) -> tuple[str, Callable[..., Any] | None]:
        """Sync: sleeps and runs the behaviour; returns the outcome."""
        delay, outcome, behavior = self.inject()
        host = self._host
        if delay > 0:
            (host[3] or time.sleep)(delay)
        if behavior and host[2] is not None:
            host[2]()
        if outcome == "fault":
            raise self._fault()
        return outcome, host[1]

    async def _before_async(self) -> tuple[str, Callable[..., Any] | None]:
        delay, outcome, behavior = self.inject()
        host = self._host
        if delay > 0:
            await (host[4] or asyncio.sleep)(delay)
        if behavior and host[2] is not None:
            done = host[2]()
            if inspect.isawaitable(done):
                await done
        if outcome == "fault":
            raise self._fault()
        return outcome, host[1]

    def call(self, func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Calls ``func(*args, **kwargs)`` with this call's injection."""
        outcome, substitute = self._before()
        if outcome == "substitute" and substitute is not None:
            return cast(R, substitute(*args, **kwargs))
        return func(*args, **kwargs)

    async def call_async(
        self, func: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Awaits ``func(*args, **kwargs)`` with this call's injection (a
        substitute's awaitable is awaited)."""
        outcome, substitute = await self._before_async()
        if outcome == "substitute" and substitute is not None:
            value = substitute(*args, **kwargs)
            if inspect.isawaitable(value):
                value = await value
            return cast(R, value)
        return await func(*args, **kwargs)

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        target = func
        while isinstance(target, functools.partial):
            target = target.func
        if inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target):
            raise TypeError(
                "chaos cannot guard a generator function: inject into the call "
                "that fetches each item"
            )
        if is_async(func):
            afunc = cast(Callable[..., Awaitable[Any]], func)

            async def guarded_async(*args: Any, **kwargs: Any) -> Any:
                return await self.call_async(afunc, *args, **kwargs)

            return cast(Callable[P, R], functools.update_wrapper(guarded_async, func))

        def guarded(*args: Any, **kwargs: Any) -> Any:
            return self.call(func, *args, **kwargs)

        return cast(Callable[P, R], functools.update_wrapper(guarded, func))

    def __enter__(self) -> Chaos:
        outcome, _ = self._before()
        if outcome == "substitute":
            raise TypeError(_NO_BLOCK_SUBSTITUTE)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def __aenter__(self) -> Chaos:
        outcome, _ = await self._before_async()
        if outcome == "substitute":
            raise TypeError(_NO_BLOCK_SUBSTITUTE)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

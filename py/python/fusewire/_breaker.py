"""`CircuitBreaker`: the core breaker as a decorator, context manager and `call`."""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from . import _native
from ._errors import CircuitOpenError
from ._types import ParamSpec, State
from ._wrap import ByConfig, TaskBlocks, breaker_end, breaker_start, decorate

__all__ = ["CircuitBreaker", "breakers", "get_breaker"]

P = ParamSpec("P")
R = TypeVar("R")


class CircuitBreaker(ByConfig, _native.Breaker):
    """A circuit breaker (see the package docs for every option).

    Use it as ``@breaker`` on sync or async functions and methods, as
    ``with breaker:`` / ``async with breaker:``, or as
    ``breaker.call(f, *args)`` / ``await breaker.call_async(f, *args)``.
    For calls that end elsewhere (a streamed response, a framework's
    middleware), ``permit = breaker.acquire()`` and later exactly one of
    ``permit.success()``, ``failure()``, ``timeout()``, ``ignore()`` or
    ``release()``; ``with breaker.acquire() as permit:`` settles it by how
    the block ends unless it was settled inside.
    Durations are seconds (floats); the breaker counts in nanoseconds of the
    monotonic clock, or of ``clock()`` when one is given.
    """

    _ab: Any
    _ablocks: TaskBlocks

    if not TYPE_CHECKING:  # type checkers read the native `__new__` signature

        def __new__(cls, *args, **kwargs):
            self = super().__new__(cls, *args, **kwargs)
            if self.name is not None:
                _registry[self.name] = self
            return self

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        return decorate(self, func)

    def with_fallback(
        self, fallback: Callable[P, R], *, on: tuple[type[BaseException], ...] = (CircuitOpenError,)
    ) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """A decorator like ``@breaker`` whose call returns
        ``fallback(*args, **kwargs)`` instead of raising one of ``on``
        (default: the breaker refusing, ``CircuitOpenError``; add your own
        exception types to fall back on failures too). On an ``async def``,
        an awaitable the fallback returns is awaited.
        """

        def decorator(func: Callable[P, R]) -> Callable[P, R]:
            guarded = decorate(self, func)
            if inspect.iscoroutinefunction(guarded):
                call = cast(Callable[..., Awaitable[Any]], guarded)

                async def guarded_async(*args: Any, **kwargs: Any) -> Any:
                    try:
                        return await call(*args, **kwargs)
                    except on:
                        value: Any = fallback(*args, **kwargs)
                        return await value if inspect.isawaitable(value) else value

                return cast(Callable[P, R], functools.update_wrapper(guarded_async, func))

            def guarded_sync(*args: P.args, **kwargs: P.kwargs) -> R:
                try:
                    return guarded(*args, **kwargs)
                except on:
                    return fallback(*args, **kwargs)

            return functools.update_wrapper(guarded_sync, func)

        return decorator

    async def call_async(
        self, func: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Awaits ``func(*args, **kwargs)`` through the breaker."""
        backend = self._ab
        if backend is None:
            with self.acquire():
                return await func(*args, **kwargs)
        # a RedisStore: admission and outcome are awaited round trips
        token = await breaker_start(self, backend)
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            await breaker_end(self, backend, token, exc)
            raise
        await breaker_end(self, backend, token, None)
        return result

    @property
    def state(self) -> State:
        """The state now (a breaker whose open time has passed reads half-open)."""
        return State(self._state)

    # `with breaker:` is native (`_native.Breaker.__enter__/__exit__`): the
    # permit of each block is kept on the breaker with its owner, the asyncio
    # task or else the thread, so tasks and threads sharing a breaker keep
    # theirs apart.
    # Over a RedisStore, `async with` awaits the backend instead (the token
    # kept with the asyncio task that entered the block).
    async def __aenter__(self) -> CircuitBreaker:
        backend = self._ab
        if backend is None:
            return self.__enter__()
        self._ablocks.push(await breaker_start(self, backend))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        backend = self._ab
        if backend is None:
            self.__exit__(exc_type, exc, tb)
            return
        token = self._ablocks.pop(self)
        if exc is None and exc_type is not None:
            exc = exc_type()
        await breaker_end(self, backend, token, exc)

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<CircuitBreaker{label} {self._state}>"


# Named breakers alive now, for metrics and admin endpoints. Weak: a breaker
# nobody uses any more leaves the registry by itself.
_registry: weakref.WeakValueDictionary[str, CircuitBreaker] = weakref.WeakValueDictionary()


def breakers() -> dict[str, CircuitBreaker]:
    """Every live breaker built with a ``name``, by name (a later breaker of
    the same name replaces an earlier one here)."""
    return dict(_registry.items())


def get_breaker(name: str) -> CircuitBreaker:
    """The live breaker named ``name`` (``KeyError`` when there is none)."""
    return _registry[name]

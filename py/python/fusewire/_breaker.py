"""`CircuitBreaker`: the core breaker as a decorator, context manager and `call`."""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable
from types import TracebackType
from typing import Callable, TypeVar

from . import _native
from ._types import ParamSpec, State
from ._wrap import decorate

__all__ = ["CircuitBreaker"]

P = ParamSpec("P")
R = TypeVar("R")

_Permits = tuple[_native.Permit, ...]


class CircuitBreaker(_native.Breaker):
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

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        return decorate(self, func)

    async def call_async(
        self, func: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Awaits ``func(*args, **kwargs)`` through the breaker."""
        with self.acquire():
            return await func(*args, **kwargs)

    @property
    def state(self) -> State:
        """The state now (a breaker whose open time has passed reads half-open)."""
        return State(self._state)

    # Context managers: the permit of each `with` lives in a context variable
    # so threads and asyncio tasks sharing one breaker keep theirs apart.
    def _permits(self) -> contextvars.ContextVar[_Permits]:
        var: contextvars.ContextVar[_Permits] | None = self.__dict__.get("_cm")
        if var is None:
            var = self.__dict__.setdefault("_cm", contextvars.ContextVar("fusewire_permits"))
        assert var is not None
        return var

    def __enter__(self) -> CircuitBreaker:
        permit = self.acquire()
        var = self._permits()
        var.set((*var.get(()), permit))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        var = self._permits()
        stack = var.get(())
        if not stack:
            raise RuntimeError("CircuitBreaker.__exit__ without a matching __enter__")
        var.set(stack[:-1])
        stack[-1].__exit__(exc_type, exc, tb)

    async def __aenter__(self) -> CircuitBreaker:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<CircuitBreaker{label} {self._state}>"

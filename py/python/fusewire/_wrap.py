"""Turning a policy into a decorator that keeps the function's signature."""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any, Callable, TypeVar, cast

from . import _native

F = TypeVar("F", bound=Callable[..., Any])


def is_async(func: object) -> bool:
    """Whether calling ``func`` returns a coroutine (functions, partials, methods)."""
    while isinstance(func, functools.partial):
        func = func.func
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - objects with an async __call__
    )


def wrap_sync(policy: object, func: F) -> F:
    """A native wrapper: the whole guarded call runs in Rust."""
    guarded = _native.Guarded(policy, func)
    functools.update_wrapper(guarded, func)
    return cast(F, guarded)


def decorate(policy: Any, func: F) -> F:
    """``policy`` as a decorator of ``func``: async functions await
    ``policy.call_async``; sync ones get the native wrapper."""
    if not is_async(func):
        return wrap_sync(policy, func)

    async def guarded(*args: Any, **kwargs: Any) -> Any:
        return await policy.call_async(func, *args, **kwargs)

    return cast(F, functools.update_wrapper(guarded, func))


def _rebuild(cls: type[Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return cls(*args, **kwargs)


class ByConfig:
    """Mixin of the policy classes: pickles by config, so the other side
    gets a policy built from the same arguments, with fresh state (a
    breaker closed, a bucket full). An argument that does not pickle (a
    lambda as listener or clock) makes pickling fail with pickle's error."""

    __slots__ = ()

    if not TYPE_CHECKING:  # type checkers read the native `__new__` signature

        def __new__(cls, *args, **kwargs):
            self = super().__new__(cls, *args, **kwargs)
            self.__dict__["_args"] = (args, kwargs)
            return self

    def __reduce__(self) -> tuple[Any, ...]:
        args, kwargs = self.__dict__["_args"]
        return (_rebuild, (type(self), args, kwargs))

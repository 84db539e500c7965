"""Turning a policy into a decorator that keeps the function's signature."""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, TypeVar, cast

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

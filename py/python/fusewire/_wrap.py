"""Turning a policy into a decorator that keeps the function's signature."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar, cast

from . import _native

F = TypeVar("F", bound=Callable[..., Any])
_Span = Callable[[], AbstractContextManager[object]]


def _unwrap(func: object) -> object:
    while isinstance(func, functools.partial):
        func = func.func
    return func


def is_async(func: object) -> bool:
    """Whether calling ``func`` returns a coroutine (functions, partials, methods)."""
    func = _unwrap(func)
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - objects with an async __call__
    )


def async_backend(policy: object) -> Any:
    """The policy's store backend when it has coroutine methods (a
    ``RedisStore``'s), which the async paths await (a retry policy's: its
    budget's); ``None`` in process and in a ``HostStore`` (their async paths
    stay the sync calls: no I/O)."""
    return getattr(policy, "_abackend", None) or getattr(policy, "_abudget", None)


async def breaker_start(policy: Any, backend: Any) -> tuple[int, int]:
    """An async path's admission through an async backend: a token for
    ``breaker_end``, or ``CircuitOpenError``."""
    token: tuple[int, int] = policy._admit(await backend.atry_acquire())
    return token


async def breaker_end(
    policy: Any, backend: Any, token: tuple[int, int], exc: BaseException | None
) -> None:
    """Settles a ``breaker_start`` token by how the call ended, awaiting the
    backend; a store that cannot take it is reported, never raised."""
    method, args = policy._settle_args(token, exc)
    try:
        moved = await getattr(backend, method)(*args)
    except Exception as e:  # the call's own result or error wins
        policy._moved(None, e)
    else:
        policy._moved(moved)


class TaskBlocks:
    """The tokens of open ``async with`` blocks over an async backend, each
    with the asyncio task that entered it (the native blocks' rule)."""

    __slots__ = ("_open",)

    def __init__(self) -> None:
        self._open: dict[object, list[Any]] = {}

    def push(self, token: Any) -> None:
        self._open.setdefault(asyncio.current_task(), []).append(token)

    def pop(self, policy: object) -> Any:
        task = asyncio.current_task()
        held = self._open.get(task)
        if not held:
            raise RuntimeError(
                f"{policy!r}: an `async with` block was exited in another asyncio task "
                "than the one that entered it"
            )
        token = held.pop()
        if not held:
            del self._open[task]
        return token


def wrap_sync(policy: object, func: F) -> F:
    """A native wrapper: the whole guarded call runs in Rust."""
    guarded = _native.Guarded(policy, func)
    functools.update_wrapper(guarded, func)
    return cast(F, guarded)


_NO_STREAM_RETRY = (
    "retrying cannot guard a generator: what it already yielded would be yielded "
    "again. Retry the call that fetches each item, or a function that collects "
    "the items into a list."
)


def _span(policy: Any) -> _Span:
    """What holds ``policy`` for one whole call: a breaker permit (settled by
    how the call ends), a bulkhead slot or a bucket's token."""
    if isinstance(policy, _native.Breaker):
        return policy.acquire
    if isinstance(policy, _native.Bulkhead):
        slot: _Span = getattr(policy, "slot")  # noqa: B009 - fusewire.Bulkhead's
        return slot
    if isinstance(policy, _native.TokenBucket):
        return lambda: cast(AbstractContextManager[object], policy)
    raise TypeError(_NO_STREAM_RETRY)


class _BreakerSpan:
    """A breaker permit for one call over an async backend, awaited."""

    __slots__ = ("_backend", "_policy", "_token")

    def __init__(self, policy: Any, backend: Any) -> None:
        self._policy, self._backend = policy, backend
        self._token: tuple[int, int] = (0, 0)

    async def __aenter__(self) -> None:
        self._token = await breaker_start(self._policy, self._backend)

    async def __aexit__(self, et: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None and et is not None:
            exc = et()
        await breaker_end(self._policy, self._backend, self._token, exc)


class _Awaited:
    """A sync span used with ``async with`` (no backend to await)."""

    __slots__ = ("_cm",)

    def __init__(self, cm: AbstractContextManager[object]) -> None:
        self._cm = cm

    async def __aenter__(self) -> None:
        self._cm.__enter__()

    async def __aexit__(self, et: Any, exc: BaseException | None, tb: Any) -> bool | None:
        return self._cm.__exit__(et, exc, tb)


_ASpan = Callable[[], AbstractAsyncContextManager[object]]


def _aspan(policy: Any, span: _Span) -> _ASpan:
    """``span`` for async code: awaited round trips over a ``RedisStore``,
    else the sync span itself."""
    backend = async_backend(policy)
    if backend is None:
        return lambda: _Awaited(span())
    if isinstance(policy, _native.Breaker):
        return lambda: _BreakerSpan(policy, backend)
    if isinstance(policy, _native.Bulkhead):
        slot: _ASpan = getattr(policy, "slot")  # noqa: B009 - fusewire.Bulkhead's
        return slot
    return lambda: cast(AbstractAsyncContextManager[object], policy)


def _generator_function(span: _Span, make: Callable[..., Any]) -> Callable[..., Any]:
    """A generator function running ``make(...)``'s generator under one
    ``span()``: taken at the first item, settled when the generator ends (a
    failure mid-stream counts; ``close()`` before the end hands a breaker
    permit back unrecorded). ``send``/``throw`` pass through."""

    def guarded(*args: Any, **kwargs: Any) -> Any:
        gen = make(*args, **kwargs)
        with span():
            return (yield from gen)

    return guarded


def _async_generator_function(span: _ASpan, make: Callable[..., Any]) -> Callable[..., Any]:
    """``_generator_function`` for async generators (``asend``/``athrow``
    pass through)."""

    async def guarded(*args: Any, **kwargs: Any) -> Any:
        agen = make(*args, **kwargs)
        async with span():
            try:
                value = await agen.__anext__()
                while True:
                    try:
                        sent = yield value
                    except GeneratorExit:
                        await agen.aclose()
                        raise
                    except BaseException as exc:
                        value = await agen.athrow(exc)
                    else:
                        value = await agen.asend(sent)
            except StopAsyncIteration:
                return

    return guarded


async def _guard_coroutine(span: _ASpan, coro: Any) -> Any:
    async with span():
        return await coro


async def _retry_coroutine(
    policy: Any, first: Any, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Retries a sync callable that returns coroutines: the first one is
    already made, later attempts call ``func`` again."""
    pending = [first]

    def attempt(*a: Any, **k: Any) -> Any:
        return pending.pop() if pending else func(*a, **k)

    return await policy.call_async(attempt, *args, **kwargs)


def _late(
    policy: Any, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any] | None, result: Any
) -> Any:
    """Called from Rust when a sync call returned a coroutine, generator or
    async generator: a replacement that guards the await or the iteration."""
    kwargs = kwargs or {}
    if inspect.iscoroutine(result):
        if isinstance(policy, _native.Retrying):
            return _retry_coroutine(policy, result, func, args, kwargs)
        return _guard_coroutine(_aspan(policy, _span(policy)), result)
    try:
        span = _span(policy)
    except TypeError:
        if inspect.isgenerator(result):
            result.close()
        raise
    if inspect.isgenerator(result):
        return _generator_function(span, lambda: result)()
    return _async_generator_function(_aspan(policy, span), lambda: result)()


def decorate(policy: Any, func: F) -> F:
    """``policy`` as a decorator of ``func``: async functions await
    ``policy.call_async``; generator functions hold the policy for the whole
    iteration; other callables get the native wrapper (which also guards a
    coroutine or generator a sync callable returns, see ``_late``)."""
    target = _unwrap(func)
    if inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target):
        span = _span(policy)  # TypeError for a retry policy, at decoration
        if inspect.isgeneratorfunction(target):
            wrapper = _generator_function(span, func)
        else:
            wrapper = _async_generator_function(_aspan(policy, span), func)
        return cast(F, functools.update_wrapper(wrapper, func))
    if not is_async(func):
        return wrap_sync(policy, func)
    if isinstance(policy, _native.Breaker) and async_backend(policy) is not None:
        backend = async_backend(policy)

        async def guarded_store_call(*args: Any, **kwargs: Any) -> Any:
            token = await breaker_start(policy, backend)
            try:
                result = await func(*args, **kwargs)
            except BaseException as exc:
                await breaker_end(policy, backend, token, exc)
                raise
            await breaker_end(policy, backend, token, None)
            return result

        return cast(F, functools.update_wrapper(guarded_store_call, func))
    if isinstance(policy, _native.Breaker):
        start, end = policy._start, policy._end

        # `call_async` inlined: one coroutine per call instead of two, and
        # the permit as two ints rather than a `Permit` object.
        async def guarded_call(*args: Any, **kwargs: Any) -> Any:
            token = start()
            try:
                result = await func(*args, **kwargs)
            except BaseException as exc:
                end(token, exc)
                raise
            end(token, None)
            return result

        return cast(F, functools.update_wrapper(guarded_call, func))

    async def guarded(*args: Any, **kwargs: Any) -> Any:
        return await policy.call_async(func, *args, **kwargs)

    functools.update_wrapper(guarded, func)
    if isinstance(policy, _native.Retrying):
        guarded.statistics = _Statistics(policy)  # type: ignore[attr-defined]
    return cast(F, guarded)


class _Statistics(Mapping[str, Any]):
    """``fn.statistics`` of an ``async def`` under retry: its policy's
    statistics for the last call this thread made, read when looked at."""

    __slots__ = ("_policy",)

    def __init__(self, policy: _native.Retrying) -> None:
        self._policy = policy

    def __getitem__(self, key: str) -> Any:
        return self._policy.statistics[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._policy.statistics)

    def __len__(self) -> int:
        return len(self._policy.statistics)

    def __repr__(self) -> str:
        return repr(self._policy.statistics)


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
            backend = async_backend(self)
            self.__dict__["_ab"] = backend
            if backend is not None:
                self.__dict__["_ablocks"] = TaskBlocks()
            return self

    def __reduce__(self) -> tuple[Any, ...]:
        args, kwargs = self.__dict__["_args"]
        return (_rebuild, (type(self), args, kwargs))

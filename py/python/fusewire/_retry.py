"""`Retrying` and `retry()`: backoff, deadline and budget, sync and async."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, TypeVar, cast, overload

from . import _native
from ._errors import ResultRejected, RetryError
from ._types import ParamSpec
from ._wait import Wait
from ._wrap import ByConfig, decorate

__all__ = ["Attempt", "Retrying", "Stop", "retry", "stop_after_attempt", "stop_after_delay"]

P = ParamSpec("P")
R = TypeVar("R")


class Stop:
    """When a retry stops: after ``max_attempts`` attempts and/or once
    ``max_elapsed`` seconds have passed since the first one began, whichever
    comes first. Build one with ``stop_after_attempt`` / ``stop_after_delay``
    and join them with ``|`` (tenacity's spelling), then pass ``stop=``."""

    __slots__ = ("max_attempts", "max_elapsed")

    def __init__(self, max_attempts: int | None = None, max_elapsed: float | None = None) -> None:
        self.max_attempts = max_attempts
        self.max_elapsed = max_elapsed

    def __or__(self, other: Stop) -> Stop:
        if not isinstance(other, Stop):
            return NotImplemented

        attempts = [n for n in (self.max_attempts, other.max_attempts) if n is not None]
        elapsed = [t for t in (self.max_elapsed, other.max_elapsed) if t is not None]
        return Stop(min(attempts, default=None), min(elapsed, default=None))

    def __and__(self, other: object) -> Stop:
        raise TypeError("a retry stops at the first rule met: join stop rules with |, not &")

    def __repr__(self) -> str:
        parts = []
        if self.max_attempts is not None:
            parts.append(f"stop_after_attempt({self.max_attempts})")
        if self.max_elapsed is not None:
            parts.append(f"stop_after_delay({self.max_elapsed})")
        return " | ".join(parts) or "Stop()"

    def __reduce__(self) -> tuple[type[Stop], tuple[int | None, float | None]]:
        return (Stop, (self.max_attempts, self.max_elapsed))


def stop_after_attempt(n: int) -> Stop:
    """Stop after ``n`` attempts (the first included): ``max_attempts=n``."""
    return Stop(max_attempts=n)


def stop_after_delay(seconds: float) -> Stop:
    """Stop once ``seconds`` have passed since the first attempt began (no
    attempt is started that the backoff would begin past it): ``max_elapsed``."""
    return Stop(max_elapsed=seconds)


class Attempt:
    """One attempt of ``for attempt in policy: with attempt: ...``: the
    block's exception is kept for the policy to judge (retry, re-raise, or
    give up with ``RetryError``) when the loop asks for the next attempt."""

    __slots__ = ("_exc", "number")

    def __init__(self, number: int) -> None:
        self.number = number
        """1 for the first attempt."""
        self._exc: BaseException | None = None

    def __enter__(self) -> Attempt:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False  # success, or KeyboardInterrupt / cancellation: not judged
        self._exc = exc
        return True

    def __repr__(self) -> str:
        return f"<fusewire.Attempt {self.number}{' failed' if self._exc else ''}>"


class Retrying(ByConfig, _native.Retrying):
    """A retry policy: ``@policy``, ``policy.call(f, ...)``, ``await policy.call_async(f, ...)``.

    Sync calls sleep with ``time.sleep`` (or ``sleep=``), async calls with
    ``asyncio.sleep`` (or ``async_sleep=``); delays come from ``backoff``.
    """

    _ab: Any

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        return decorate(self, func)

    def __iter__(self) -> Iterator[Attempt]:
        """Retries a block: ``for attempt in policy: with attempt: ...``.

        Each failure in the block is judged as ``call`` judges it (``retry_on``,
        budget, backoff, deadline, hooks); the loop ends after the first
        attempt whose block finished, re-raises an exception it does not
        retry, and raises ``RetryError`` (or the exception, ``reraise=True``)
        when it gives up. Sleeps with ``time.sleep`` or ``sleep=``.
        """
        run = self._begin()
        sleep = self._sleep or time.sleep
        hooks = self._hooks
        before, after = (hooks[2], hooks[3]) if hooks else (None, None)
        while True:
            attempt = Attempt(run.attempts)
            if before is not None:
                before(attempt.number)
            yield attempt
            exc = attempt._exc
            if exc is None:
                run.success()
                return
            if after is not None:
                after(attempt.number, exc)
            delay = run.failure(exc)
            if delay is None:
                raise exc
            sleep(delay)

    async def __aiter__(self) -> AsyncIterator[Attempt]:
        """``async for attempt in policy: with attempt: ...`` (``asyncio.sleep``
        or ``async_sleep=`` between attempts)."""
        run = self._begin()
        arun = _store_run(self, run)
        sleep = self._async_sleep or asyncio.sleep
        hooks = self._hooks
        before, after = (hooks[2], hooks[3]) if hooks else (None, None)
        while True:
            attempt = Attempt(run.attempts)
            if before is not None:
                before(attempt.number)
            yield attempt
            exc = attempt._exc
            if exc is None:
                if arun is None:
                    run.success()
                else:
                    await arun.success()
                return
            if after is not None:
                after(attempt.number, exc)
            delay = run.failure(exc) if arun is None else await arun.failure(exc)
            if delay is None:
                raise exc
            await sleep(delay)

    def _judge(
        self, run: _native.RetryRun, outcome: _Outcome, give_up: Callable[[RetryError], Any] | None
    ) -> float | _Done:
        """After a failed or rejected attempt: the seconds to wait, or the
        call's end (a value, or the exception to raise)."""
        number = run.attempts
        hooks = self._hooks
        if hooks is not None and hooks[3] is not None:
            hooks[3](number, outcome.exc)
        try:
            delay = run.failure(outcome.exc, outcome.rejected)
        except RetryError as err:
            if give_up is None:
                raise
            return _Done(give_up(err))
        return _verdict(outcome, delay)

    async def _ajudge(
        self, arun: _StoreRun, outcome: _Outcome, give_up: Callable[[RetryError], Any] | None
    ) -> float | _Done:
        """``_judge`` over a store budget whose round trips are awaited."""
        hooks = self._hooks
        if hooks is not None and hooks[3] is not None:
            hooks[3](arun.attempts, outcome.exc)
        try:
            delay = await arun.failure(outcome.exc, outcome.rejected)
        except RetryError as err:
            if give_up is None:
                raise
            return _Done(give_up(err))
        return _verdict(outcome, delay)

    def _call_hooked(self, func: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        """``call`` when ``retry_on_result``, ``give_up``, ``before`` or
        ``after`` is set (the native loop calls it)."""
        hooks = self._hooks
        assert hooks is not None
        on_result, give_up, before, _ = hooks
        run = self._begin()
        sleep = self._sleep or time.sleep
        while True:
            if before is not None:
                before(run.attempts)
            try:
                value = func(*args, **kwargs)
            except Exception as exc:
                outcome = _Outcome(exc)
            else:
                if on_result is None or not on_result(value):
                    run.success()
                    return value
                outcome = _Outcome(ResultRejected(value), value)
            step = self._judge(run, outcome, give_up)
            if isinstance(step, _Done):
                return step.value
            sleep(step)

    async def call_async(
        self, func: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Awaits ``func(*args, **kwargs)``, retrying as configured."""
        run = self._begin()
        sleep = self._async_sleep or asyncio.sleep
        hooks = self._hooks
        if self._ab is not None:  # a budget in a RedisStore: awaited round trips
            arun = _StoreRun(run, self._ab)
            return cast(R, await self._call_async_store(arun, func, args, kwargs))
        if hooks is None:
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
        on_result, give_up, before, _ = hooks
        while True:
            if before is not None:
                before(run.attempts)
            try:
                value = await func(*args, **kwargs)
            except Exception as exc:
                outcome = _Outcome(exc)
            else:
                if on_result is None or not on_result(value):
                    run.success()
                    return value
                outcome = _Outcome(ResultRejected(value), value)
            step = self._judge(run, outcome, give_up)
            if isinstance(step, _Done):
                return cast(R, step.value)
            await sleep(step)

    async def _call_async_store(
        self, arun: _StoreRun, func: Callable[..., Awaitable[Any]], args: Any, kwargs: Any
    ) -> Any:
        """``call_async`` with a budget in a ``RedisStore``: each budget
        round trip is awaited (the loop's rules are ``call_async``'s)."""
        sleep = self._async_sleep or asyncio.sleep
        on_result, give_up, before, _ = self._hooks or (None, None, None, None)
        while True:
            if before is not None:
                before(arun.attempts)
            try:
                value = await func(*args, **kwargs)
            except Exception as exc:
                outcome = _Outcome(exc)
            else:
                if on_result is None or not on_result(value):
                    await arun.success()
                    return value
                outcome = _Outcome(ResultRejected(value), value)
            step = await self._ajudge(arun, outcome, give_up)
            if isinstance(step, _Done):
                return step.value
            await sleep(step)


def _verdict(outcome: _Outcome, delay: float | None) -> float | _Done:
    """A judged failure: the seconds to wait, or the call's end."""
    if delay is None:  # not retried, or reraise=True
        if outcome.rejected:
            return _Done(outcome.value)
        raise outcome.exc
    return delay


def _store_run(policy: Retrying, run: _native.RetryRun) -> _StoreRun | None:
    budget = policy._ab  # the budget's async backend, found at construction
    return None if budget is None else _StoreRun(run, budget)


class _StoreRun:
    """A ``RetryRun`` whose budget lives in a ``RedisStore``: the async
    loops await its round trips (``arecord_failure``, ``afailure_retry``,
    ``arecord_success``); the decision stays the core's (``RetryRun``
    decides on a copy first to know whether the budget is asked)."""

    __slots__ = ("_budget", "_run")

    def __init__(self, run: _native.RetryRun, budget: Any) -> None:
        self._run = run
        self._budget = budget

    @property
    def attempts(self) -> int:
        return self._run.attempts

    async def success(self) -> None:
        try:
            await self._budget.arecord_success()
        except Exception as e:  # a success the store missed costs a token, not the result
            self._run._budget_error(e)

    async def failure(self, exc: BaseException, matched: bool = False) -> float | None:
        run = self._run
        stage = run._failure_plan(exc, matched)
        if stage == 0:
            return run.failure(exc, matched)
        if stage == 2:  # the failure counted and the retry asked: one round trip
            retry = bool(await self._budget.afailure_retry())
        else:
            await self._budget.arecord_failure()
            retry = False
        return run._failure_fixed(exc, matched, retry)


class _Outcome:
    __slots__ = ("exc", "rejected", "value")

    def __init__(self, exc: Exception, *value: object) -> None:
        self.exc = exc
        self.rejected = bool(value)
        self.value = value[0] if value else None


class _Done:
    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


@overload
def retry(func: Callable[P, R], /) -> Callable[P, R]: ...


@overload
def retry(
    *,
    max_attempts: int = 3,
    max_elapsed: float | None = None,
    stop: Stop | None = None,
    backoff: _native.Backoff | None = None,
    wait: Wait | _native.Backoff | None = None,
    retry_on: Any = None,
    budget: _native.RetryBudget | None = None,
    reraise: bool = False,
    honor_retry_after: bool = True,
    seed: int | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], object] | None = None,
    async_sleep: Callable[[float], Awaitable[object]] | None = None,
    before_sleep: Callable[[int, float, BaseException], object] | None = None,
    retry_on_result: Callable[[Any], object] | None = None,
    give_up: Callable[[RetryError], Any] | None = None,
    before: Callable[[int], object] | None = None,
    after: Callable[[int, BaseException], object] | None = None,
) -> Retrying: ...


def retry(func: Any = None, /, **options: Any) -> Retrying | Callable[..., Any]:
    """``@retry`` (defaults) or ``@retry(max_attempts=5, ...)`` on sync or async functions."""
    policy = Retrying(**options)
    if func is not None:
        return policy(func)
    return policy

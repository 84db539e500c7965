"""``Pool``: endpoints picked by the core (power of two choices, outlier
ejection), with ``call`` / ``call_async`` that fail a call over to another
endpoint under the pool's retry budget."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from . import _native
from ._wrap import ByConfig

__all__ = ["Pool"]

R = TypeVar("R")


def _classify(exc: BaseException) -> Literal["failure", "gateway_failure"]:
    """A failed call's result for the pool: ``gateway_failure`` when the
    exception carries an HTTP status of 502, 503 or 504 (``status`` or
    ``status_code``), else ``failure``."""
    status = getattr(exc, "status_code", None) or getattr(exc, "status", None)
    return "gateway_failure" if status in (502, 503, 504) else "failure"


class Pool(ByConfig, _native.Pool):
    """A pool of endpoints (any objects: URLs, clients). ``pool.call(f,
    *args)`` calls ``f(endpoint, *args)`` on a picked endpoint, records how
    it ended, and on an exception fails over to another endpoint, up to
    ``attempts`` endpoints in all, each failover spending a retry from
    ``budget`` (when given). The low-level ``pick`` / ``record`` /
    ``release`` / ``failover`` / ``poll`` / ``stats`` are the core's steps.
    Durations are seconds; listeners get a ``PoolEvent`` per ejection or
    return."""

    def call(
        self,
        func: Callable[..., R],
        /,
        *args: Any,
        attempts: int = 2,
        **kwargs: Any,
    ) -> R:
        """Calls ``func(endpoint, *args, **kwargs)``, failing over on an
        exception (``KeyboardInterrupt`` and the like are released, not
        recorded, and re-raised)."""
        pick = self.pick()
        tries = 1
        while True:
            try:
                value = func(pick.endpoint, *args, **kwargs)
            except Exception as exc:
                self.record(pick, _classify(exc))
                budget = self.budget
                if budget is not None:
                    budget.record_failure()  # every failed attempt spends a token
                nxt = self.failover(pick) if tries < attempts else None
                if nxt is None:
                    raise
                pick, tries = nxt, tries + 1
            except BaseException:
                self.release(pick)
                raise
            else:
                self.record(pick, "success")
                budget = self.budget
                if budget is not None:
                    budget.record_success()
                return value

    async def call_async(
        self,
        func: Callable[..., Awaitable[R]],
        /,
        *args: Any,
        attempts: int = 2,
        **kwargs: Any,
    ) -> R:
        """``call`` for coroutine functions (cancellation releases the pick)."""
        pick = self.pick()
        tries = 1
        while True:
            try:
                value = await func(pick.endpoint, *args, **kwargs)
            except Exception as exc:
                self.record(pick, _classify(exc))
                budget = self.budget
                if budget is not None:
                    budget.record_failure()  # every failed attempt spends a token
                nxt = self.failover(pick) if tries < attempts else None
                if nxt is None:
                    raise
                pick, tries = nxt, tries + 1
            except BaseException:
                self.release(pick)
                raise
            else:
                self.record(pick, "success")
                budget = self.budget
                if budget is not None:
                    budget.record_success()
                return value

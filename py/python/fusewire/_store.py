"""Where a policy's state lives when several processes share it.

A policy built with ``store=s, name="k"`` (``CircuitBreaker``,
``TokenBucket``, ``Bulkhead``, ``RetryBudget``) validates its options as
usual, then calls ``s._bind(kind, "k", config)`` once and sends every
decision to the **backend** it returns instead of its in-process core:

- ``kind`` is ``"breaker"``, ``"bucket"``, ``"bulkhead"`` or ``"budget"``;
- ``config`` is the validated core config as a plain dict: ints (every
  duration in nanoseconds), strings for choices, ``None`` for a rule that
  is off. Its keys and their order are ``fusewire_store::config::fields``
  (store/src/config.rs). A store fingerprints it, and a process whose
  config differs for the same name gets ``ConfigError`` naming the first
  option that differs.

The backend methods below are the whole protocol (``store/README.md``,
section "Doors", says the same). The backend keeps the time: the policy
passes no ``now``, and ``clock=`` cannot be combined with ``store=``.
Ticks are integer nanoseconds. A backend raises to refuse a bad request
(``ValueError`` for tokens above the burst); anything else it raises reaches
the caller, except when a breaker settles a call (an outcome the store
could not take is reported with ``sys.unraisablehook``, never raised over
the call's own result).

A backend whose class has ``is_async = True`` (``RedisStore``'s) also has
``a``-prefixed coroutine twins of its decision methods (``atake``,
``aacquire``, ``arelease``, ``ain_use``, ``atry_acquire``, ``arecord``,
``arecord_success``, ``arecord_failure``, ``atry_retry``; the budget's
``afailure_retry`` is both of the last two in one round trip), same
arguments and returns; the policies' async paths (``async with``, ``call_async``, the
``async def`` decorator, ``wait_async``) await them.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

__all__ = [
    "BreakerBackend",
    "BucketBackend",
    "BudgetBackend",
    "BulkheadBackend",
    "Store",
]

Kind = Literal["breaker", "bucket", "bulkhead", "budget"]
_Transition = tuple[str, str, str] | None
"""``None``, or ``(from_state, to_state, reason)`` names as ``StateChange`` has them."""


class Store(Protocol):
    """What ``store=`` accepts: ``fusewire.HostStore``, ``fusewire.RedisStore``."""

    def _bind(self, kind: Kind, name: str, config: dict[str, Any]) -> object:
        """The backend of policy ``name`` (made on first use with ``config``)."""
        ...


class BucketBackend(Protocol):
    """A token bucket's state in a store."""

    def take(self, n: int) -> int:
        """Takes ``n`` tokens: 0 when granted, else the ns until they are there
        (at least 1); ``ValueError`` when ``n`` is above the burst."""
        ...

    def refund(self, n: int) -> None:
        """Gives back ``n`` tokens taken for work that did not happen."""
        ...

    def available(self) -> int:
        """Tokens there now."""
        ...


class BulkheadBackend(Protocol):
    """A bulkhead's state in a store."""

    def acquire(self, priority: Literal["critical", "normal", "sheddable"]) -> int | None:
        """A slot (an int below 2**53, ``Slot`` raw form), or ``None`` when full."""
        ...

    def release(self, slot: int) -> Literal["released", "expired", "not_held"]:
        """Hands ``slot`` back."""
        ...

    def in_use(self) -> int: ...
    def available(self) -> int: ...
    def available_for(self, priority: Literal["critical", "normal", "sheddable"]) -> int: ...
    def extra_releases(self) -> int: ...
    def expired_releases(self) -> int: ...
    def reclaimed(self) -> int: ...


class BudgetBackend(Protocol):
    """A retry budget's state in a store."""

    def record_success(self) -> None: ...
    def record_failure(self) -> None: ...
    def try_retry(self) -> bool: ...
    def can_retry(self) -> bool: ...
    def tokens_milli(self) -> int: ...
    def throttled(self) -> int: ...


class BreakerBackend(Protocol):
    """A circuit breaker's state in a store. Permits are raw ints (below
    2**53, the core's ``Permit`` raw form: bit 16 says "probe")."""

    def try_acquire(self) -> tuple[bool, int, str, _Transition]:
        """``(True, raw_permit, state, moved)`` or ``(False, retry_after_ns,
        refusing_state, moved)``."""
        ...

    def record(
        self,
        permit: int,
        outcome: Literal["success", "failure", "timeout", "ignored"],
        duration: int,
    ) -> _Transition: ...

    def release(self, permit: int) -> _Transition:
        """A permit whose call never ran: a probe slot goes back."""
        ...

    def state(self) -> tuple[str, _Transition]:
        """The state now (time-driven moves applied) and the move, if any."""
        ...

    def host(
        self, op: Literal["poll", "trip", "close", "force_open", "disable", "half_open", "reset"]
    ) -> _Transition: ...

    def snapshot(self) -> dict[str, Any]:
        """The keys of ``CircuitBreaker.snapshot()``, times in seconds."""
        ...

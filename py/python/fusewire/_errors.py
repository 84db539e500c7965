"""The exceptions fusewire raises: all are `FusewireError`s."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

__all__ = [
    "BulkheadFull",
    "ChaosFault",
    "CircuitOpenError",
    "ConfigError",
    "FusewireError",
    "RateLimited",
    "ResultRejected",
    "RetryError",
    "StoreError",
]


class FusewireError(Exception):
    """Base class of every exception fusewire raises."""


class ConfigError(FusewireError, ValueError):
    """A policy was built with a bad value; ``field`` is the keyword at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"invalid `{field}`: {reason}")
        self.field = field
        self.reason = reason

    def __reduce__(self) -> tuple[type[ConfigError], tuple[str, str]]:
        return (type(self), (self.field, self.reason))


class CircuitOpenError(FusewireError):
    """The breaker refused the call; try again in ``retry_after`` seconds.

    ``retry_after`` is ``math.inf`` while the breaker is forced open.
    """

    # Raised on every refused call: built by BaseException's C constructor
    # (the fields live in ``args``) and its message formatted only when read.
    if TYPE_CHECKING:

        def __init__(self, name: str | None, retry_after: float, state: str) -> None: ...

    @property
    def name(self) -> str | None:
        """The breaker's ``name``."""
        return cast("str | None", self.args[0])

    @property
    def retry_after(self) -> float:
        """Seconds until the breaker lets a call through again."""
        return cast(float, self.args[1])

    @property
    def state(self) -> str:
        """``"open"``, ``"half_open"`` (its probes are all out) or ``"forced_open"``."""
        return cast(str, self.args[2])

    def __str__(self) -> str:
        label = f"circuit {self.name!r}" if self.name else "circuit"
        return f"{label} is {self.state.replace('_', '-')}; retry after {self.retry_after:.3f}s"


class RateLimited(FusewireError):
    """The token bucket is empty; a token will be there in ``retry_after`` seconds."""

    if TYPE_CHECKING:

        def __init__(self, retry_after: float) -> None: ...

    @property
    def retry_after(self) -> float:
        """Seconds until the tokens asked for will be there."""
        return cast(float, self.args[0])

    def __str__(self) -> str:
        return f"rate limited; retry after {self.retry_after:.6f}s"


class BulkheadFull(FusewireError):
    """Every slot open to ``priority`` is taken (``in_use`` in all)."""

    def __init__(self, priority: str, in_use: int) -> None:
        super().__init__(f"bulkhead full for {priority} calls ({in_use} in use)")
        self.priority = priority
        self.in_use = in_use

    def __reduce__(self) -> tuple[type[BulkheadFull], tuple[str, int]]:
        return (type(self), (self.priority, self.in_use))


class ResultRejected(FusewireError):
    """An attempt returned a value ``retry_on_result`` rejected (``result``).

    It is the ``__cause__`` of the ``RetryError`` raised on giving up."""

    def __init__(self, result: object) -> None:
        super().__init__(f"the result was rejected by retry_on_result: {result!r:.200}")
        self.result = result

    def __reduce__(self) -> tuple[type[ResultRejected], tuple[object]]:
        return (type(self), (self.result,))


class RetryError(FusewireError):
    """Retrying gave up after ``attempts`` attempts.

    ``reason`` is ``"max_attempts"``, ``"deadline"``, ``"wait_too_long"`` (an
    advertised ``retry_after`` longer than the retry may wait) or ``"budget"``; the
    last attempt's exception is ``__cause__`` (also ``last_exception``).
    """

    def __init__(self, attempts: int, reason: str) -> None:
        super().__init__(f"gave up after {attempts} attempt(s): {reason.replace('_', ' ')}")
        self.attempts = attempts
        self.reason = reason

    @property
    def last_exception(self) -> BaseException | None:
        return self.__cause__

    def __reduce__(self) -> tuple[type[RetryError], tuple[int, str]]:
        return (type(self), (self.attempts, self.reason))


class ChaosFault(FusewireError):
    """The fault a ``Chaos`` policy injects when it was given no ``fault=``."""


class StoreError(FusewireError):
    """A store could not be used: ``reason`` is ``"full"`` (no entry or room
    left: open it with a larger ``size``), ``"build_mismatch"`` (made by
    another fusewire build), ``"permission_denied"`` (made by another user)
    or ``"os"`` (a system call failed); ``store`` is the store's name."""

    def __init__(self, store: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.store = store
        self.reason = reason

    def __reduce__(self) -> tuple[type[StoreError], tuple[str, str, str]]:
        return (type(self), (self.store, self.reason, str(self)))

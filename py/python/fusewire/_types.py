"""Small value types shared by the policies."""

from __future__ import annotations

import enum
from typing import Any, NamedTuple, ParamSpec

__all__ = ["ParamSpec", "PoolEvent", "State", "StateChange"]


class State(str, enum.Enum):
    """Where a circuit breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"
    FORCED_OPEN = "forced_open"
    DISABLED = "disabled"

    def __str__(self) -> str:
        return self.value


class StateChange(NamedTuple):
    """What a breaker listener receives after a transition.

    ``reason`` is one of ``failure_rate``, ``slow_call_rate``,
    ``consecutive_failures``, ``open_elapsed``, ``probes_passed``,
    ``probes_failed``, ``dwell_expired``, ``host``; ``at`` is the breaker's
    clock in seconds.
    """

    name: str | None
    from_state: State
    to_state: State
    reason: str
    at: float


def _state_change(
    name: str | None, from_state: str, to_state: str, reason: str, at: float
) -> StateChange:
    return StateChange(name, State(from_state), State(to_state), reason, at)


class PoolEvent(NamedTuple):
    """An endpoint of a ``Pool`` was ejected (``kind == "ejected"``: why in
    ``reason``, back at ``until``, seconds of the pool's clock) or returned
    (``kind == "returned"``)."""

    kind: str
    position: int
    """The endpoint's index in the pool."""
    endpoint: Any
    reason: str | None
    until: float | None

"""tenacity's wait rules as descriptions of the core's ``Backoff``.

``wait_fixed``, ``wait_random``, ``wait_exponential``,
``wait_random_exponential``, ``wait_chain`` and ``+`` build a ``Wait``: which
core backoffs (schedule, jitter, cap) make the delay after each failed
attempt. No delay is computed here: ``Retrying(wait=...)`` hands the
description to the native policy, where each term's delay is the core's
``Backoff`` and a sum or chain only adds or selects them. A rule that is one
core backoff (``wait_fixed(2)``, ``wait_random_exponential(max=60)``) is
exactly that backoff.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ._errors import ConfigError
from ._native import Backoff

__all__ = [
    "Wait",
    "wait_chain",
    "wait_exponential",
    "wait_fixed",
    "wait_none",
    "wait_random",
    "wait_random_exponential",
]

_Segments = tuple[tuple[int, tuple[Backoff, ...]], ...]


def _seconds(name: str, value: object, *, endless: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(name, f"expected seconds (a number), got {value!r}")
    if math.isnan(value) or value < 0:
        raise ConfigError(name, f"must be a number of seconds, 0 or more, got {value!r}")
    if math.isinf(value) and not endless:
        raise ConfigError(name, f"must be a finite number of seconds, got {value!r}")
    return float(value)


def _core(name: str, make: Callable[..., Backoff], *args: object, **kwargs: object) -> Backoff:
    """A core ``Backoff``; its refusal (a delay too long for the core's
    nanoseconds) names the user's argument."""
    try:
        return make(*args, **kwargs)
    except ConfigError as err:
        raise ConfigError(name, err.reason) from None


class Wait:
    """How long to wait after each failed attempt, for ``Retrying(wait=...)``.

    Made by the ``wait_*`` functions; ``a + b`` waits the sum of both
    (``wait_fixed(3) + wait_random(0, 2)``: 3 to 5 seconds).
    """

    __slots__ = ("_desc", "_segments")

    def __init__(self, segments: _Segments, desc: str) -> None:
        self._segments = segments
        self._desc = desc

    def _plan(self) -> list[tuple[int, list[Backoff]]]:
        """For the native policy: ``(first attempt index, terms)`` segments."""
        return [(n, list(terms)) for n, terms in self._segments]

    def _at(self, n: int) -> tuple[Backoff, ...]:
        found: tuple[Backoff, ...] = ()
        for first, terms in self._segments:
            if first <= n:
                found = terms
        return found

    def __add__(self, other: Wait) -> Wait:
        if not isinstance(other, Wait):
            return NotImplemented
        starts = sorted({n for n, _ in self._segments} | {n for n, _ in other._segments} | {0})
        segments = tuple((n, self._at(n) + other._at(n)) for n in starts)
        return Wait(segments, f"{self._desc} + {other._desc}")

    def __radd__(self, other: object) -> Wait:
        if other == 0:  # sum([wait_fixed(1), wait_random(0, 1)])
            return self
        return NotImplemented

    def __repr__(self) -> str:
        return self._desc

    def __reduce__(self) -> tuple[type[Wait], tuple[_Segments, str]]:
        return (Wait, (self._segments, self._desc))


def wait_none() -> Wait:
    """No wait between attempts."""
    return Wait(((0, ()),), "wait_none()")


def wait_fixed(wait: float) -> Wait:
    """The same ``wait`` seconds after every failed attempt."""
    s = _seconds("wait", wait)
    terms = (_core("wait", Backoff.constant, s),) if s > 0 else ()
    return Wait(((0, terms),), f"wait_fixed({wait!r})")


def wait_random(min: float = 0, max: float = 1) -> Wait:
    """Uniformly random between ``min`` and ``max`` seconds."""
    lo, hi = _seconds("min", min), _seconds("max", max)
    if hi < lo:
        raise ConfigError("max", f"must be at least min ({min!r}), got {max!r}")
    terms: tuple[Backoff, ...] = ()
    if lo > 0:
        terms += (_core("min", Backoff.constant, lo),)
    if hi > lo:
        terms += (_core("max", Backoff.constant, hi - lo, jitter="full"),)
    return Wait(((0, terms),), f"wait_random(min={min!r}, max={max!r})")


def _exponential(
    name: str, multiplier: float, max: float, exp_base: float, min: float, jitter: str
) -> Wait:
    mult = _seconds("multiplier", multiplier)
    cap = _seconds("max", max, endless=True)
    floor = _seconds("min", min)
    if isinstance(exp_base, bool) or not isinstance(exp_base, (int, float)):
        raise ConfigError("exp_base", f"expected a number, got {exp_base!r}")
    if not 1 <= exp_base <= 4_294_967:
        raise ConfigError("exp_base", f"must be between 1 and 4294967, got {exp_base!r}")
    desc = f"{name}(multiplier={multiplier!r}, max={max!r}, exp_base={exp_base!r}, min={min!r})"
    if floor > 0 and jitter != "none":
        raise ConfigError(
            "min",
            "a floor under a random exponential wait is not a core backoff rule; "
            "use wait_fixed(min) + wait_random_exponential(...)",
        )
    if mult == 0 or cap <= mult:
        # Every delay is the cap (or nothing): min(multiplier * ..., max).
        top = cap if mult > 0 else 0.0
        if floor >= top:
            return Wait(((0, (_core("min", Backoff.constant, floor),) if floor > 0 else ()),), desc)
        return Wait(((0, (_core("max", Backoff.constant, top, jitter=jitter),)),), desc)
    grow = _core(
        "multiplier",
        Backoff.exponential,
        mult,
        exp_base,
        jitter=jitter,
        cap=None if math.isinf(cap) else cap,
    )
    if floor <= mult:
        return Wait(((0, (grow,)),), desc)
    # tenacity's max(min, multiplier * exp_base ** n): `min` until the
    # core's schedule reaches it, then the schedule (at the same n).
    k = 0
    while k < 1100 and grow.raw(k) < floor:
        k += 1
    segments: _Segments = ((0, (_core("min", Backoff.constant, floor),)),)
    if grow.raw(k) >= floor:
        segments += ((k, (grow,)),)
    return Wait(segments, desc)


def wait_exponential(
    multiplier: float = 1,
    max: float = math.inf,
    exp_base: float = 2,
    min: float = 0,
) -> Wait:
    """``multiplier * exp_base ** (attempt - 1)`` seconds, at least ``min``,
    at most ``max`` (tenacity's rule; the core's exponential schedule)."""
    return _exponential("wait_exponential", multiplier, max, exp_base, min, "none")


def wait_random_exponential(
    multiplier: float = 1,
    max: float = math.inf,
    exp_base: float = 2,
    min: float = 0,
) -> Wait:
    """Uniformly random between 0 and ``wait_exponential``'s delay (full
    jitter, AWS's "exponential backoff and jitter")."""
    return _exponential("wait_random_exponential", multiplier, max, exp_base, min, "full")


def wait_chain(*strategies: Wait) -> Wait:
    """The first rule after the first failed attempt, the second after the
    second, ...; the last one from then on (tenacity's ``wait_chain``).
    Each rule sees the absolute attempt number, as in tenacity."""
    if not strategies:
        raise ConfigError("wait_chain", "give at least one wait rule")
    for w in strategies:
        if not isinstance(w, Wait):
            raise TypeError(f"wait_chain: expected wait rules, got {w!r}")
    last = len(strategies) - 1
    segments = [(i, w._at(i)) for i, w in enumerate(strategies)]
    segments += [(n, terms) for n, terms in strategies[last]._segments if n > last]
    inner = ", ".join(repr(w) for w in strategies)
    return Wait(tuple(segments), f"wait_chain({inner})")

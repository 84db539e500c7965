"""tenacity's wait rules and per-call statistics, checked against tenacity
itself (a test-only dependency): the same rule, the same failing function,
the same delays (random rules: the same bounds, found by running tenacity
with its random draw pinned to each end)."""

from __future__ import annotations

import asyncio
import math
import pickle
import threading
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
import tenacity
from conftest import FakeClock
from fusewire import (
    ConfigError,
    RetryError,
    Retrying,
    Wait,
    retry,
    stop_after_attempt,
    stop_after_delay,
    wait_chain,
    wait_exponential,
    wait_fixed,
    wait_none,
    wait_random,
    wait_random_exponential,
)

ATTEMPTS = 12


def _always_fails() -> None:
    raise ConnectionError("down")


def fusewire_delays(wait: Wait, seed: int = 0, attempts: int = ATTEMPTS) -> list[float]:
    slept: list[float] = []
    policy = Retrying(stop=stop_after_attempt(attempts), wait=wait, sleep=slept.append, seed=seed)
    with pytest.raises(RetryError):
        policy.call(_always_fails)
    return slept


def tenacity_delays(wait: Any, attempts: int = ATTEMPTS) -> list[float]:
    slept: list[float] = []
    policy = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts), wait=wait, sleep=slept.append
    )
    with pytest.raises(tenacity.RetryError):
        policy(_always_fails)
    return slept


def tenacity_bounds(make: Callable[[], Any]) -> tuple[list[float], list[float]]:
    """tenacity's delays with every random draw at its low end, then at its high end."""
    ends = []
    for end in (0.0, 1.0):
        pinned = mock.Mock(random=lambda e=end: e, uniform=lambda a, b, e=end: a + (b - a) * e)
        with mock.patch("tenacity.wait.random", pinned):
            ends.append(tenacity_delays(make()))
    return ends[0], ends[1]


# tenacity's README examples, then a few more.
DETERMINISTIC = [
    ("wait_fixed(2)", lambda m: m.wait_fixed(2)),
    (
        "wait_exponential(multiplier=1, min=4, max=10)",
        lambda m: m.wait_exponential(1, min=4, max=10),
    ),
    (
        "wait_chain(3,3,3,7,7,9)",
        lambda m: m.wait_chain(
            *[m.wait_fixed(3) for _ in range(3)]
            + [m.wait_fixed(7) for _ in range(2)]
            + [m.wait_fixed(9)]
        ),
    ),
    ("wait_exponential()", lambda m: m.wait_exponential()),
    (
        "wait_exponential(0.5, exp_base=3, max=20)",
        lambda m: m.wait_exponential(0.5, max=20, exp_base=3),
    ),
    ("wait_exponential(2, max=1)", lambda m: m.wait_exponential(2, max=1)),
    ("wait_exponential(1, min=100, max=10)", lambda m: m.wait_exponential(1, min=100, max=10)),
    ("wait_none()", lambda m: m.wait_none()),
    ("wait_fixed(1) + wait_fixed(0.25)", lambda m: m.wait_fixed(1) + m.wait_fixed(0.25)),
    (
        "wait_chain(wait_fixed(1), wait_exponential(min=3))",
        lambda m: m.wait_chain(m.wait_fixed(1), m.wait_exponential(min=3)),
    ),
    (
        "wait_chain(wait_fixed(1), wait_exponential()) + wait_fixed(2)",
        lambda m: m.wait_chain(m.wait_fixed(1), m.wait_exponential()) + m.wait_fixed(2),
    ),
]

RANDOM = [
    ("wait_random(min=1, max=2)", lambda m: m.wait_random(min=1, max=2)),
    ("wait_fixed(3) + wait_random(0, 2)", lambda m: m.wait_fixed(3) + m.wait_random(0, 2)),
    (
        "wait_random_exponential(multiplier=1, max=60)",
        lambda m: m.wait_random_exponential(1, max=60),
    ),
    (
        "wait_exponential(1, max=10) + wait_random(0, 2)",
        lambda m: m.wait_exponential(1, max=10) + m.wait_random(0, 2),
    ),
    (
        "wait_chain(wait_random(0, 1), wait_fixed(5))",
        lambda m: m.wait_chain(m.wait_random(0, 1), m.wait_fixed(5)),
    ),
]


class _Fusewire:
    wait_fixed = staticmethod(wait_fixed)
    wait_random = staticmethod(wait_random)
    wait_exponential = staticmethod(wait_exponential)
    wait_random_exponential = staticmethod(wait_random_exponential)
    wait_chain = staticmethod(wait_chain)
    wait_none = staticmethod(wait_none)


@pytest.mark.parametrize(("name", "make"), DETERMINISTIC, ids=[n for n, _ in DETERMINISTIC])
def test_deterministic_waits_match_tenacity(name: str, make: Callable[[Any], Any]) -> None:
    ours = fusewire_delays(make(_Fusewire))
    theirs = tenacity_delays(make(tenacity))
    assert len(ours) == len(theirs) == ATTEMPTS - 1
    # ours are whole nanoseconds (wait_none: the core's one-tick minimum)
    assert ours == pytest.approx(theirs, abs=2e-9), name


@pytest.mark.parametrize(("name", "make"), RANDOM, ids=[n for n, _ in RANDOM])
def test_random_waits_stay_within_tenacitys_bounds(name: str, make: Callable[[Any], Any]) -> None:
    low, high = tenacity_bounds(lambda: make(tenacity))
    seen = [fusewire_delays(make(_Fusewire), seed=s) for s in range(40)]
    for n in range(ATTEMPTS - 1):
        draws = [d[n] for d in seen]
        assert all(low[n] - 2e-9 <= d <= high[n] + 2e-9 for d in draws), (name, n, draws)
        if high[n] - low[n] > 0.01:
            # really random: it spreads over the range, not one point
            assert max(draws) - min(draws) > (high[n] - low[n]) / 3, (name, n, draws)


def test_a_single_rule_is_the_core_backoff_and_seeds_reproduce() -> None:
    w = wait_fixed(3) + wait_random(0, 2)
    assert fusewire_delays(w, seed=7) == fusewire_delays(w, seed=7)
    assert fusewire_delays(w, seed=7) != fusewire_delays(w, seed=8)


def test_combined_wait_still_obeys_the_deadline(clock: FakeClock) -> None:
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        clock.advance(s)

    policy = Retrying(
        stop=stop_after_attempt(10) | stop_after_delay(10),
        wait=wait_fixed(3) + wait_fixed(1),
        clock=clock,
        sleep=sleep,
    )
    with pytest.raises(RetryError) as info:
        policy.call(_always_fails)
    assert slept == [4.0, 4.0]  # a third wait would end past 10 s
    assert info.value.reason == "deadline"


def test_bad_wait_rules_name_the_argument() -> None:
    for bad, name in [
        (lambda: wait_fixed(-1), "wait"),
        (lambda: wait_fixed(float("nan")), "wait"),
        (lambda: wait_random(2, 1), "max"),
        (lambda: wait_exponential(exp_base=0.5), "exp_base"),
        (lambda: wait_exponential(multiplier="1"), "multiplier"),  # type: ignore[arg-type]
        (lambda: wait_random_exponential(min=1), "min"),
        (lambda: wait_chain(), "wait_chain"),
        (lambda: wait_fixed(float("inf")), "wait"),
        (lambda: wait_random(0, float("inf")), "max"),
        (lambda: wait_exponential(min=-1), "min"),
    ]:
        with pytest.raises(ConfigError) as info:
            bad()
        assert info.value.field == name
    with pytest.raises(ConfigError, match="`wait`"):
        from fusewire import Backoff

        Retrying(wait=wait_fixed(1), backoff=Backoff.constant(1))
    with pytest.raises(TypeError, match=r"^wait"):
        Retrying(wait=3)  # type: ignore[arg-type]


def test_wait_rules_pickle_with_their_policy() -> None:
    policy = Retrying(wait=wait_chain(wait_fixed(1), wait_fixed(2) + wait_random(0, 1)))
    back = pickle.loads(pickle.dumps(policy))
    assert repr(back.__dict__["_args"][1]["wait"]) == repr(policy.__dict__["_args"][1]["wait"])
    assert math.isclose(fusewire_delays(wait_chain(wait_fixed(1), wait_fixed(2)), attempts=3)[1], 2)


# -- statistics --------------------------------------------------------------


def _flaky(failures: int, clock: FakeClock | None = None) -> Callable[[], str]:
    calls = [0]

    def f() -> str:
        calls[0] += 1
        if clock is not None:
            clock.advance(0.5)  # each attempt takes half a second
        if calls[0] <= failures:
            raise ConnectionError(calls[0])
        return "ok"

    return f


def _sleeper(clock: FakeClock) -> Callable[[float], None]:
    return clock.advance


def test_statistics_of_a_decorated_function_match_tenacitys(clock: FakeClock) -> None:
    wrapped = retry(wait=wait_fixed(2), clock=clock, sleep=_sleeper(clock))(_flaky(2, clock))
    assert wrapped.statistics == {}  # type: ignore[attr-defined]
    assert wrapped() == "ok"
    ours = wrapped.statistics  # type: ignore[attr-defined]

    t_clock = FakeClock()
    theirs_fn = tenacity.retry(wait=tenacity.wait_fixed(2), sleep=t_clock.advance)(
        _flaky(2, t_clock)
    )
    with mock.patch("tenacity.time.monotonic", t_clock):
        theirs_fn()
    theirs = theirs_fn.statistics
    assert set(ours) == set(theirs)
    assert ours["start_time"] == 1000.0
    for key in ("attempt_number", "idle_for", "delay_since_first_attempt"):
        assert ours[key] == pytest.approx(theirs[key]), key
    assert ours["attempt_number"] == 3
    assert ours["idle_for"] == 4.0
    assert ours["delay_since_first_attempt"] == 3.0  # 0.5 + 2 + 0.5 at the 2nd failure


def test_statistics_of_a_first_time_success_and_of_a_give_up(clock: FakeClock) -> None:
    policy = Retrying(
        stop=stop_after_attempt(3), wait=wait_fixed(1), clock=clock, sleep=clock.advance
    )
    policy.call(_flaky(0, clock))
    assert policy.statistics == {"start_time": 1000.0, "attempt_number": 1, "idle_for": 0.0}
    with pytest.raises(RetryError):
        policy.call(_flaky(5, clock))
    st = policy.statistics
    assert st["attempt_number"] == 3
    assert st["idle_for"] == 2.0
    assert st["start_time"] == 1000.5
    assert st["delay_since_first_attempt"] == 3.5
    # the next call starts afresh
    policy.call(_flaky(0, clock))
    assert policy.statistics["attempt_number"] == 1
    assert "delay_since_first_attempt" not in policy.statistics


def test_statistics_are_per_thread() -> None:
    policy = Retrying(stop=stop_after_attempt(5), wait=wait_none())
    barrier = threading.Barrier(2)
    seen: dict[int, int] = {}

    def run(failures: int) -> None:
        policy.call(_flaky(failures))
        barrier.wait()  # both calls are done before either reads
        seen[failures] = policy.statistics["attempt_number"]

    threads = [threading.Thread(target=run, args=(n,)) for n in (1, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {1: 2, 3: 4}
    assert policy.statistics == {}  # this thread made no call


def test_statistics_of_async_calls_and_retried_blocks(clock: FakeClock) -> None:
    slept: list[float] = []

    async def nap(s: float) -> None:
        slept.append(s)
        clock.advance(s)

    policy = Retrying(wait=wait_fixed(1), clock=clock, async_sleep=nap, sleep=clock.advance)
    calls = [0]

    @policy
    async def fetch() -> str:
        calls[0] += 1
        if calls[0] < 3:
            raise ConnectionError
        return "ok"

    assert asyncio.run(fetch()) == "ok"
    assert fetch.statistics["attempt_number"] == 3  # type: ignore[attr-defined]
    assert dict(fetch.statistics)["idle_for"] == 2.0  # type: ignore[attr-defined]

    tries = 0
    for attempt in policy:
        with attempt:
            tries += 1
            if tries < 2:
                raise ConnectionError
    assert policy.statistics["attempt_number"] == 2
    assert policy.statistics["idle_for"] == 1.0


def test_statistics_only_on_retried_functions() -> None:
    from fusewire import CircuitBreaker

    guarded = CircuitBreaker()(lambda: 1)
    with pytest.raises(AttributeError, match="statistics"):
        guarded.statistics  # type: ignore[attr-defined]  # noqa: B018

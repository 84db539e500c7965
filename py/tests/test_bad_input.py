"""Every integer keyword, given a negative or oversized int, raises
`ConfigError` (a `ValueError`) naming the keyword, never a bare
`OverflowError`; previews are bounded instead of allocating gigabytes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fusewire import (
    Backoff,
    Bulkhead,
    CircuitBreaker,
    ConfigError,
    RetryBudget,
    Retrying,
    TokenBucket,
)

BAD_INTS = [-1, -(2**63), 2**32, 2**64, 2**200]

backoff = Backoff.exponential(0.1)
bucket = TokenBucket(10)

# (what is called, the keyword, values that fit u32 but not the keyword)
CASES: list[tuple[str, Callable[[int], Any]]] = [
    ("consecutive_failures", lambda v: CircuitBreaker(consecutive_failures=v)),
    ("min_calls", lambda v: CircuitBreaker(min_calls=v)),
    ("window_size", lambda v: CircuitBreaker(window_size=v)),
    ("window_buckets", lambda v: CircuitBreaker(window_duration=10.0, window_buckets=v)),
    ("half_open_probes", lambda v: CircuitBreaker(half_open_probes=v)),
    ("seed", lambda v: CircuitBreaker(seed=v)),
    ("max_attempts", lambda v: Retrying(max_attempts=v)),
    ("seed", lambda v: Retrying(seed=v)),
    ("seed", lambda v: Retrying().state(seed=v)),
    ("max_tokens", lambda v: RetryBudget(max_tokens=v)),
    ("rate", lambda v: TokenBucket(v)),
    ("burst", lambda v: TokenBucket(10, burst=v)),
    ("rate", lambda v: bucket.set_rate(v)),
    ("n", lambda v: bucket.take(v)),
    ("n", lambda v: bucket.try_acquire(v)),
    ("n", lambda v: bucket.acquire(v)),
    ("n", lambda v: bucket.refund(v)),
    ("max_concurrent", lambda v: Bulkhead(v)),
    ("reserve_critical", lambda v: Bulkhead(4, reserve_critical=v)),
    ("reserve_normal", lambda v: Bulkhead(4, reserve_normal=v)),
    ("jitter_percent", lambda v: Backoff.constant(1.0, jitter="proportional", jitter_percent=v)),
    (
        "jitter_percent",
        lambda v: Backoff.exponential(1.0, jitter="proportional", jitter_percent=v),
    ),
    ("n", lambda v: backoff.delays(v)),
    ("seed", lambda v: backoff.delays(3, seed=v)),
    ("n", lambda v: backoff.raw(v)),
]

IDS = [f"{k}-{i}" for i, (k, _) in enumerate(CASES)]


@pytest.mark.parametrize("value", BAD_INTS)
@pytest.mark.parametrize(("keyword", "call"), CASES, ids=IDS)
def test_out_of_range_ints_name_the_keyword(
    keyword: str, call: Callable[[int], Any], value: int
) -> None:
    if value >= 0 and keyword == "seed" and value < 2**64:
        call(value)  # every u64 is a seed
        return
    with pytest.raises(ConfigError) as info:
        call(value)
    assert isinstance(info.value, ValueError)
    assert info.value.field == keyword
    assert keyword in str(info.value)


@pytest.mark.parametrize(("keyword", "call"), CASES, ids=IDS)
def test_non_integers_are_type_errors_naming_the_keyword(
    keyword: str, call: Callable[[Any], Any]
) -> None:
    with pytest.raises(TypeError, match=keyword):
        call("3")


def test_a_huge_preview_is_refused_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError, match="`n`"):
        Backoff.exponential(0.1, jitter="full").delays(2**32 - 1)
    assert time.monotonic() - started < 1.0
    assert len(Backoff.constant(0.1).delays(65536)) == 65536

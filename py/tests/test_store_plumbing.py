"""`store=` / `name=`: what a policy hands a store and the typed errors of
the plumbing (store/README.md, "Doors"), with a recording fake store."""

from __future__ import annotations

import pickle
from typing import Any

import fusewire
import pytest
from fusewire import ConfigError


class Recorder:
    """A store that records `_bind` and answers with a scripted backend."""

    def __init__(self, backend: Any = None) -> None:
        self.bound: list[tuple[str, str, dict[str, Any]]] = []
        self.backend = backend

    def _bind(self, kind: str, name: str, config: dict[str, Any]) -> Any:
        self.bound.append((kind, name, config))
        return self.backend

    def __reduce__(self) -> Any:
        return (Recorder, ())


class Bucket:
    def __init__(self, waits: list[int]) -> None:
        self.waits = waits
        self.refunded = 0

    def take(self, n: int) -> int:
        return self.waits.pop(0)

    def refund(self, n: int) -> None:
        self.refunded += n

    def available(self) -> int:
        return 42


def make(kind: str, store: Any, **kw: Any) -> Any:
    if kind == "bucket":
        return fusewire.TokenBucket(10, 1.0, store=store, **kw)
    if kind == "bulkhead":
        return fusewire.Bulkhead(4, store=store, **kw)
    if kind == "budget":
        return fusewire.RetryBudget(store=store, **kw)
    return fusewire.CircuitBreaker(store=store, **kw)


KINDS = ["bucket", "bulkhead", "budget", "breaker"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_policy_binds_once_with_its_kind_name_and_config(kind: str) -> None:
    store = Recorder(object())
    make(kind, store, name="shared")
    assert [(k, n) for k, n, _ in store.bound] == [(kind, "shared")]
    config = store.bound[0][2]
    assert all(isinstance(v, (int, str)) or v is None for v in config.values())


def test_the_config_is_in_nanoseconds_and_lowest_terms() -> None:
    store = Recorder(object())
    fusewire.TokenBucket(10, 1.0, burst=20, store=store, name="b")
    fusewire.Bulkhead(3, reserve_critical=1, lease=2.5, store=store, name="h")
    fusewire.CircuitBreaker(open_duration=5.0, half_open_probes=3, store=store, name="c")
    (_, _, bucket), (_, _, bulkhead), (_, _, breaker) = store.bound
    assert bucket == {"burst": 20, "tokens": 1, "period": 100_000_000}
    assert bulkhead == {
        "limit": 3,
        "reserve_critical": 1,
        "reserve_normal": 0,
        "lease": 2_500_000_000,
    }
    assert breaker["open_backoff_base"] == 5_000_000_000
    assert breaker["half_open_probes"] == 3
    assert breaker["window"] == "count" and breaker["window_duration"] is None


@pytest.mark.parametrize("kind", KINDS)
def test_a_store_without_a_name_names_name(kind: str) -> None:
    with pytest.raises(ConfigError) as e:
        make(kind, Recorder())
    assert e.value.field == "name"


@pytest.mark.parametrize("kind", ["bucket", "bulkhead", "budget"])
@pytest.mark.parametrize("bad", [3, b"x", ["x"]])
def test_a_name_that_is_not_a_string_is_a_type_error(kind: str, bad: object) -> None:
    with pytest.raises(TypeError, match="name"):
        make(kind, Recorder(), name=bad)


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_name_is_refused(kind: str) -> None:
    with pytest.raises(ConfigError) as e:
        make(kind, Recorder(), name="")
    assert e.value.field == "name"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad", ["redis://localhost", 1, object()])
def test_a_store_that_is_not_one_names_store(kind: str, bad: object) -> None:
    with pytest.raises(TypeError, match="store"):
        make(kind, bad, name="x")


def test_a_clock_with_a_store_is_refused() -> None:
    with pytest.raises(ConfigError) as e:
        fusewire.TokenBucket(10, store=Recorder(), name="x", clock=lambda: 0.0)
    assert e.value.field == "clock"


def test_without_a_store_nothing_changes() -> None:
    b = fusewire.TokenBucket(1, name="just a label")
    assert b.try_acquire() and not b.try_acquire()


def test_the_bucket_asks_its_backend() -> None:
    backend = Bucket([0, 250_000_000, 0])
    b = fusewire.TokenBucket(10, store=Recorder(backend), name="b")
    b.acquire()
    with pytest.raises(fusewire.RateLimited) as e:
        b.acquire()
    assert e.value.retry_after == 0.25
    assert b.take() == 0.0
    b.refund(2)
    assert backend.refunded == 2
    assert b.available == 42
    with pytest.raises(ConfigError) as c:
        b.set_rate(5)
    assert c.value.field == "rate"


def test_a_bound_policy_pickles_with_its_store_and_name() -> None:
    b = fusewire.TokenBucket(10, store=Recorder(Bucket([])), name="b")
    again = pickle.loads(pickle.dumps(b))
    assert isinstance(again, fusewire.TokenBucket)
    budget = fusewire.RetryBudget(5, store=Recorder(object()), name="r")
    again_budget = pickle.loads(pickle.dumps(budget))
    assert isinstance(again_budget, fusewire.RetryBudget)

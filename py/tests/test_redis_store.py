"""RedisStore (the fleet tier) against a real redis-server on loopback:
sharing across processes, config collisions, bad input, and Redis stopped
and started mid-run."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import pickle
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fusewire
import pytest
import redis
from fusewire import (
    Bulkhead,
    CircuitBreaker,
    ConfigError,
    RedisStore,
    RedisStoreError,
    RetryBudget,
    TokenBucket,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "redis"))
from server import RedisServer

CTX = mp.get_context("spawn")


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer() as s:
        yield s


@pytest.fixture
def url(server: RedisServer) -> Iterator[str]:
    if server.proc is None:
        server.start()
    redis.Redis.from_url(server.url).flushall()
    yield server.url


def test_two_breakers_with_one_name_share_one_state(url: str) -> None:
    a = CircuitBreaker(store=RedisStore(url), name="payments", min_calls=2, open_duration=30.0)
    b = CircuitBreaker(store=RedisStore(url), name="payments", min_calls=2, open_duration=30.0)
    for _ in range(2):
        a.acquire().failure()
    assert b.state == fusewire.State.OPEN
    with pytest.raises(fusewire.CircuitOpenError) as e:
        b.acquire()
    assert 29.0 < e.value.retry_after <= 30.0
    assert b.snapshot()["failures"] == 2


def test_a_different_config_under_one_name_is_a_typed_error_naming_the_option(url: str) -> None:
    TokenBucket(100, 1.0, burst=100, store=RedisStore(url), name="api")
    with pytest.raises(ConfigError) as e:
        TokenBucket(100, 1.0, store=RedisStore(url), name="api", burst=50)
    assert e.value.field == "burst"
    with pytest.raises(ConfigError) as e:
        TokenBucket(200, 1.0, burst=100, store=RedisStore(url), name="api")
    assert e.value.field == "rate"
    assert "already in Redis" in str(e.value)
    CircuitBreaker(store=RedisStore(url), name="b", min_calls=4)
    with pytest.raises(ConfigError) as e:
        CircuitBreaker(store=RedisStore(url), name="b", min_calls=5)
    assert e.value.field == "min_calls"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"on_error": "fail_sideways"}, "on_error"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"timeout": float("inf")}, "timeout"),
        ({"timeout": "50ms"}, "timeout"),
        ({"ttl": -1}, "ttl"),
        ({"prefix": ""}, "prefix"),
    ],
)
def test_bad_options_name_the_option(url: str, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as e:
        RedisStore(url, **kwargs)
    assert e.value.field == field


def test_a_wrong_url_is_a_typed_error() -> None:
    with pytest.raises(ConfigError) as e:
        RedisStore("http://localhost:6379")
    assert e.value.field == "url"
    with pytest.raises(ConfigError) as e:
        RedisStore(None)
    assert e.value.field == "url"


def test_a_redis_that_needs_a_password_says_so() -> None:
    with RedisServer("--requirepass", "s3cret") as locked:
        with pytest.raises(RedisStoreError, match="password"):
            TokenBucket(10, 1.0, store=RedisStore(locked.url), name="t")
        good = f"redis://:s3cret@127.0.0.1:{locked.port}/0"
        bucket = TokenBucket(10, 1.0, store=RedisStore(good), name="t")
        assert bucket.try_acquire()


def test_bulkhead_and_budget_share_their_counts(url: str) -> None:
    a = Bulkhead(2, store=RedisStore(url), name="db")
    b = Bulkhead(2, store=RedisStore(url), name="db")
    s1 = a.acquire()
    s2 = b.acquire()
    assert b.try_acquire() is None and a.try_acquire() is None
    a.release(s2)  # a slot from the other instance: the state is one
    assert b.try_acquire() is not None
    b.release(s1)
    x = RetryBudget(2, 0.1, store=RedisStore(url), name="r")
    y = RetryBudget(2, 0.1, store=RedisStore(url), name="r")
    x.record_failure()
    assert not y.can_retry


def _hammer(url: str, seconds: float, q: Any) -> None:
    bucket = TokenBucket(100, 1.0, burst=20, store=RedisStore(url, timeout=1.0), name="fleet")
    granted = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if bucket.try_acquire():
            granted += 1
    q.put(granted)


def test_eight_processes_never_exceed_burst_plus_rate_times_elapsed(url: str) -> None:
    q = CTX.Queue()
    seconds = 10.0  # the figure: 8 processes, 100/s, 10 s
    procs = [CTX.Process(target=_hammer, args=(url, seconds, q)) for _ in range(8)]
    r = redis.Redis.from_url(url)
    t0 = r.time()
    for p in procs:
        p.start()
    total = sum(q.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(10)
    t1 = r.time()
    elapsed = (t1[0] - t0[0]) + (t1[1] - t0[1]) / 1e6  # the server's clock, the one the scripts use
    assert total <= 20 + 100 * elapsed
    assert total >= 100 * seconds * 0.8, "the processes did take what the bucket had"


def _crowd(url: str, seconds: float, q: Any) -> None:
    b = Bulkhead(3, store=RedisStore(url, timeout=1.0), name="crowd")
    r = redis.Redis.from_url(url)
    most, held = 0, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        slot = b.try_acquire()
        if slot is None:
            continue
        held += 1
        most = max(most, int(r.incr("crowd:inside")))  # who is inside right now, fleet-wide
        r.decr("crowd:inside")
        b.release(slot)
    q.put((most, held))


def test_the_bulkhead_limit_holds_across_processes(url: str) -> None:
    q = CTX.Queue()
    procs = [CTX.Process(target=_crowd, args=(url, 2.0, q)) for _ in range(6)]
    for p in procs:
        p.start()
    results = [q.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(10)
    assert max(m for m, _ in results) <= 3
    assert sum(h for _, h in results) > 50
    assert Bulkhead(3, store=RedisStore(url), name="crowd").in_use == 0


# 3 probes; half-open lasts a minute, so no process arriving late sees a second round
PROBES: dict[str, Any] = {
    "min_calls": 1,
    "half_open_probes": 3,
    "open_duration": 0.2,
    "half_open_max_dwell": 60.0,
}


def _probe(url: str, start: Any, q: Any) -> None:
    breaker = CircuitBreaker(store=RedisStore(url, timeout=1.0), name="probes", **PROBES)
    start.wait()
    admitted = 0
    for _ in range(20):
        try:
            breaker.acquire()  # never settled: a probe held
            admitted += 1
        except fusewire.CircuitOpenError:
            pass
    q.put(admitted)


def test_half_open_admits_exactly_k_probes_across_processes(url: str) -> None:
    breaker = CircuitBreaker(store=RedisStore(url), name="probes", **PROBES)
    breaker.acquire().failure()
    assert breaker.state == fusewire.State.OPEN
    time.sleep(0.25)  # the open duration runs on the server's clock
    q, start = CTX.Queue(), CTX.Event()
    procs = [CTX.Process(target=_probe, args=(url, start, q)) for _ in range(6)]
    for p in procs:
        p.start()
    start.set()
    total = sum(q.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(10)
    assert total == 3
    assert breaker.snapshot()["probes_in_flight"] == 3


def _hold(url: str, q: Any) -> None:
    b = Bulkhead(1, lease=1.0, store=RedisStore(url, timeout=1.0), name="held")
    took = b.acquire()
    q.put(time.time() if took is not None else None)
    time.sleep(60)


def test_a_killed_slot_holder_loses_the_slot_within_its_lease(url: str) -> None:
    q = CTX.Queue()
    p = CTX.Process(target=_hold, args=(url, q))
    p.start()
    took = q.get(timeout=60)
    assert took is not None
    os.kill(p.pid or 0, signal.SIGKILL)
    p.join(10)
    b = Bulkhead(1, lease=1.0, store=RedisStore(url), name="held")
    # held for more than half its lease (core/src/bulkhead.rs: epochs of half a lease)
    assert b.try_acquire() is None or time.time() - took > 0.5
    while (slot := b.try_acquire()) is None:
        assert time.time() - took < 3.0, "the slot never came back"
        time.sleep(0.01)
    assert time.time() - took <= 1.0 + 0.3  # within its lease (slack for a loaded machine)
    b.release(slot)


@pytest.mark.parametrize("policy", ["fail_open", "fail_closed", "local"])
def test_redis_stopped_mid_run_answers_by_policy_in_bounded_time_then_recovers(
    server: RedisServer, url: str, policy: str
) -> None:
    store = RedisStore(url, timeout=0.05, on_error=policy)  # type: ignore[arg-type]
    bucket = TokenBucket(1, 3600.0, burst=3, store=store, name=f"down-{policy}")
    assert bucket.try_acquire()
    server.stop()
    worst = 0.0
    answers = []
    for _ in range(50):
        t = time.monotonic()
        answers.append(bucket.try_acquire())
        worst = max(worst, time.monotonic() - t)
    assert worst < 0.1, f"a call took {worst:.3f} s with Redis down"
    if policy == "fail_open":
        assert all(answers)
    elif policy == "fail_closed":
        assert not any(answers)
    else:  # the in-process bucket: its own burst of 3
        assert answers[:3] == [True] * 3 and not any(answers[3:])
    assert store.errors >= 50
    server.start()  # a new server: the scripts are gone (NOSCRIPT), the state too
    deadline = time.monotonic() + 10
    while store._failures and time.monotonic() < deadline:  # paced by fusewire's backoff
        bucket.try_acquire()
        time.sleep(0.01)
    assert not store._failures, "reconnected"
    r = redis.Redis.from_url(url)
    r.flushall()
    granted = sum(bucket.try_acquire() for _ in range(10))
    assert granted == 3, "nothing answered while Redis was away is counted in Redis"


def test_a_breaker_with_redis_down_fails_open_or_closed(server: RedisServer, url: str) -> None:
    open_store = RedisStore(url, timeout=0.05)
    closed_store = RedisStore(url, timeout=0.05, on_error="fail_closed")
    a = CircuitBreaker(store=open_store, name="x")
    b = CircuitBreaker(store=closed_store, name="x")
    server.stop()
    t = time.monotonic()
    with a.acquire() as permit:
        assert not permit.probe
    with pytest.raises(fusewire.CircuitOpenError):
        b.acquire()
    assert time.monotonic() - t < 0.2
    with pytest.raises(RedisStoreError):
        a.snapshot()
    server.start()


def test_lease_mode_cuts_round_trips_by_ten_or_more(url: str) -> None:
    plain, leased = RedisStore(url), RedisStore(url, lease=20)
    a = TokenBucket(1000, 1.0, burst=1000, store=plain, name="rt-plain")
    b = TokenBucket(1000, 1.0, burst=1000, store=leased, name="rt-lease")
    for _ in range(500):
        assert a.try_acquire()
        assert b.try_acquire()
    assert plain.round_trips >= 500
    assert plain.round_trips >= 10 * leased.round_trips
    leased.close()


def test_lease_mode_over_admission_is_at_most_one_lease_per_process(url: str) -> None:
    # 10 tokens a second, burst 10; A leases 10 at a time for up to 5 s
    sa, sb = RedisStore(url, lease=10, lease_time=5.0), RedisStore(url)
    a = TokenBucket(10, 1.0, burst=10, store=sa, name="over")
    b = TokenBucket(10, 1.0, burst=10, store=sb, name="over")
    assert a.try_acquire()  # A took the whole bucket (10) and spent 1
    assert not b.try_acquire(), "A holds the other 9"
    time.sleep(1.05)  # the shared bucket is full again
    start = time.monotonic()
    window = sum(b.try_acquire() for _ in range(10)) + sum(a.try_acquire() for _ in range(10))
    elapsed = time.monotonic() - start
    # B spends the refilled 10, A the 9 it held (and a token that refilled meanwhile, if any)
    assert window >= 19, "more than the burst: the over-admission lease mode allows"
    assert window <= 10 + 10 * elapsed + 10, "at most one lease over burst + rate x elapsed"


def test_lease_mode_hands_unused_tokens_back(url: str) -> None:
    sa, sb = RedisStore(url, lease=10, lease_time=0.1), RedisStore(url)
    a = TokenBucket(1, 3600.0, burst=10, store=sa, name="back")
    b = TokenBucket(1, 3600.0, burst=10, store=sb, name="back")
    assert a.try_acquire()
    assert b.available == 0
    sa.close()
    assert b.available == 9
    assert sum(b.try_acquire() for _ in range(20)) == 9, (
        "since the start, never more than the burst"
    )
    assert a.try_acquire() is False


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"lease": 1}, "lease"), ({"lease": 2.5}, "lease"), ({"lease_time": 0}, "lease_time")],
)
def test_bad_lease_options_name_the_option(url: str, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as e:
        RedisStore(url, **kwargs)
    assert e.value.field == field


# The fixed vector both doors must produce (Node: tests/redis/fingerprints.js);
# store/src/config.rs computes the fingerprint once, for both.
FINGERPRINTS = Path(__file__).resolve().parents[2] / "tests" / "redis" / "fingerprints.json"


def test_the_fingerprint_is_the_fixed_vector_node_sends_too() -> None:
    from fusewire._redis import fingerprint

    vectors = json.loads(FINGERPRINTS.read_text())["vectors"]
    assert {v["kind"] for v in vectors} == {"bucket", "bulkhead", "budget", "breaker"}
    for v in vectors:
        assert fingerprint(v["kind"], v["config"]) == v["fingerprint"]
    captured: list[tuple[str, dict[str, Any]]] = []

    class Capture:
        def _bind(self, kind: str, name: str, config: dict[str, Any]) -> object:
            captured.append((kind, dict(config)))
            raise LookupError

    # what the policy itself sends, not only a dict written by hand
    with pytest.raises(LookupError):
        CircuitBreaker(
            store=Capture(),
            name="b",
            consecutive_failures=5,
            open_duration=fusewire.Backoff.exponential(1.5, 2.0, cap=60.0),
        )
    assert captured[0] == ("breaker", vectors[4]["config"])
    assert fingerprint("bulkhead", {**vectors[2]["config"], "lease": 2**64 - 1}).endswith("|max")
    with pytest.raises(ConfigError) as e:
        fingerprint("bulkhead", {**vectors[2]["config"], "lease": 2**53 * 1000})
    assert e.value.field == "lease"


def test_local_keeps_a_bulkhead_and_a_budget_in_process_while_redis_is_down(
    server: RedisServer, url: str
) -> None:
    store = RedisStore(url, on_error="local")
    bulk = Bulkhead(2, store=store, name="local-bulk")
    budget = RetryBudget(2, 0.1, store=store, name="local-budget")
    server.stop()
    a, b = bulk.try_acquire(), bulk.try_acquire()
    assert a is not None and b is not None
    assert bulk.try_acquire() is None, "the in-process bulkhead's limit"
    bulk.release(a)
    assert bulk.try_acquire() is not None
    assert budget.can_retry
    budget.record_failure()
    assert not budget.try_retry(), "the in-process budget: 1 of 2 tokens left is not more than half"
    server.start()


def _hold_probe(url: str, q: Any) -> None:
    breaker = CircuitBreaker(
        store=RedisStore(url, timeout=1.0),
        name="dead-probe",
        min_calls=1,
        open_duration=0.1,
        half_open_max_dwell=1.0,
        dwell_expiry="close",
    )
    time.sleep(0.15)
    q.put(breaker.acquire().probe)  # the one probe, never settled
    time.sleep(60)


def test_a_killed_probe_holder_loses_the_probe_after_the_dwell(url: str) -> None:
    cfg: dict[str, Any] = {
        "min_calls": 1,
        "open_duration": 0.1,
        "half_open_max_dwell": 1.0,
        "dwell_expiry": "close",
    }
    breaker = CircuitBreaker(store=RedisStore(url), name="dead-probe", **cfg)
    breaker.acquire().failure()
    q = CTX.Queue()
    p = CTX.Process(target=_hold_probe, args=(url, q))
    p.start()
    assert q.get(timeout=60) is True
    os.kill(p.pid or 0, signal.SIGKILL)
    p.join(10)
    with pytest.raises(fusewire.CircuitOpenError):
        breaker.acquire()  # half-open, its one probe held by the dead process
    time.sleep(1.05)  # the dwell is the probe's lease
    with breaker.acquire() as permit:
        assert not permit.probe
    assert breaker.state == fusewire.State.CLOSED


def test_a_stalled_redis_is_a_bounded_wait_and_nothing_counts_twice(
    server: RedisServer, url: str
) -> None:
    store = RedisStore(url, timeout=0.05, on_error="fail_closed")
    bucket = TokenBucket(1, 3600.0, burst=100, store=store, name="stall")
    assert bucket.try_acquire()
    assert server.proc is not None
    server.proc.send_signal(signal.SIGSTOP)  # alive, answering nothing
    try:
        worst, decisions = 0.0, 1
        for _ in range(20):
            t = time.monotonic()
            assert not bucket.try_acquire(), "fail_closed while Redis stalls"
            decisions += 1
            worst = max(worst, time.monotonic() - t)
            time.sleep(0.005)
        assert worst < 0.1, f"a call took {worst:.3f} s with Redis stalled"
    finally:
        server.proc.send_signal(signal.SIGCONT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not bucket.try_acquire():
        decisions += 1
        time.sleep(0.02)
    decisions += 1
    taken = 100 - bucket.available
    # a call that timed out may still have run once in Redis (its bytes were
    # sent), but none ran twice: the client retries nothing, so Redis took at
    # most one token per script this store sent (the first was the bind's check)
    assert taken <= store.round_trips - 1
    assert taken <= decisions
    assert store.errors >= 20


def test_local_keeps_a_breaker_in_process_while_redis_is_down(
    server: RedisServer, url: str
) -> None:
    store = RedisStore(url, on_error="local")
    breaker = CircuitBreaker(store=store, name="local-breaker", min_calls=2, open_duration=30.0)
    server.stop()
    for _ in range(2):
        breaker.acquire().failure()
    assert breaker.state == fusewire.State.OPEN, "the in-process breaker tripped"
    with pytest.raises(fusewire.CircuitOpenError) as e:
        breaker.acquire()
    assert 29.0 < e.value.retry_after <= 30.0
    server.start()


@pytest.mark.parametrize(
    "open_duration",
    [
        fusewire.Backoff.constant(10.0, jitter="full"),
        fusewire.Backoff.exponential(1.0, 2.0, jitter="decorrelated", cap=600.0),
        fusewire.Backoff.constant(10.0, jitter="proportional", jitter_percent=30),
    ],
)
def test_a_seed_gives_the_same_open_durations_in_process_and_through_redis(
    url: str, open_duration: fusewire.Backoff
) -> None:
    cfg: dict[str, Any] = {"min_calls": 1, "seed": 1234, "open_duration": open_duration}
    shared = CircuitBreaker(store=RedisStore(url), name="seeded", **cfg)
    here = CircuitBreaker(clock=lambda: 0.0, **cfg)

    def durations(b: CircuitBreaker) -> list[float]:
        out = []

        def opened() -> None:
            s = b.snapshot()
            out.append(s["open_until"] - s["since"])

        b.acquire().failure()  # a failure-rate trip
        opened()
        for _ in range(5):  # reopens: the backoff's step grows
            b.half_open()
            b.acquire().failure()
            opened()
        b.close()  # the generator is not reseeded by a close
        b.trip()  # a host trip draws too
        opened()
        return out

    redis_side, in_process = durations(shared), durations(here)
    # the same draws of the core's generator; the store counts in µs, the
    # in-process breaker in ns: equal to the microsecond (decorrelated
    # jitter carries that rounding into its next bound: one part in 10^6)
    assert redis_side == pytest.approx(in_process, rel=1e-6, abs=2e-6)
    assert len({round(d, 3) for d in in_process}) > 4, "the durations are jittered"


def test_a_sync_retry_spends_one_round_trip_per_failure_on_its_redis_budget(url: str) -> None:
    # The core records the failure, then asks for the retry: the door holds
    # the first back and sends both as the script's failure_retry.
    store = RedisStore(url)
    budget = RetryBudget(100, 0.1, store=store, name="trips")
    policy = fusewire.Retrying(
        max_attempts=6, budget=budget, wait=fusewire.wait_fixed(0.001), sleep=lambda s: None
    )

    def fails() -> None:
        raise OSError("down")

    before = store.round_trips
    with pytest.raises(fusewire.RetryError) as e:
        policy.call(fails)
    assert (e.value.attempts, e.value.reason) == (6, "max_attempts")
    assert store.round_trips - before == 6  # 5 asked for a retry, the 6th counted alone
    assert (budget.tokens, budget.throttled) == (94.0, 0)
    # a budget that refuses: counted as throttled, in the same one trip
    tight = RetryBudget(2, 0.1, store=store, name="tight")
    before = store.round_trips
    with pytest.raises(fusewire.RetryError) as e:
        fusewire.Retrying(max_attempts=6, budget=tight, sleep=lambda s: None).call(fails)
    assert (e.value.attempts, e.value.reason) == (1, "budget")
    assert store.round_trips - before == 1
    assert (tight.tokens, tight.throttled) == (1.0, 1)


def _store_of(policy: Any) -> tuple[int, int]:
    """(pid, id of the store the unpickled policy is bound to)."""
    return os.getpid(), id(policy.__dict__["_args"][1]["store"])


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_a_policy_in_a_redis_store_goes_to_a_process_pool(url: str, method: str) -> None:
    # a RedisStore pickled as its redis-py client (a lock) made every policy
    # bound to it unpicklable: ProcessPoolExecutor.map(f, [bucket]) failed
    from concurrent.futures import ProcessPoolExecutor

    import host_workers as w

    store = RedisStore(url)
    bucket = TokenBucket(5, 3600.0, store=store, name="pool")
    assert bucket.try_acquire()
    with ProcessPoolExecutor(2, mp_context=mp.get_context(method)) as pool:
        taken = [n for n, _ in pool.map(w.take_all, [bucket] * 4)]
        stores = list(pool.map(_store_of, [bucket] * 8))
    assert sum(taken) == 4, taken  # one bucket: the 4 tokens left, in all
    assert not bucket.try_acquire()
    per_worker: dict[int, set[int]] = {}
    for pid, ident in stores:
        per_worker.setdefault(pid, set()).add(ident)
    assert all(len(ids) == 1 for ids in per_worker.values()), "one store per worker"
    for policy in (
        CircuitBreaker(store=store, name="pb", min_calls=3),
        Bulkhead(2, store=store, name="ph"),
        RetryBudget(store=store, name="pr"),
    ):
        again = pickle.loads(pickle.dumps(policy))
        assert type(again) is type(policy)


def _client(url: str, **kwargs: Any) -> redis.Redis:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url, **{"socket_timeout": 0.2, "retry": Retry(NoBackoff(), 0), **kwargs}
    )


def test_a_store_on_your_own_client_says_why_it_does_not_pickle(url: str) -> None:
    with pytest.raises(TypeError, match="build it from a URL"):
        pickle.dumps(RedisStore(_client(url)))


def test_your_own_client_without_a_timeout_or_with_retries_is_warned_about(url: str) -> None:
    # a blocking redis-py call cannot be cut short: say which guarantee goes
    with pytest.warns(UserWarning, match="no socket_timeout"):
        RedisStore(_client(url, socket_timeout=None))
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    with pytest.warns(UserWarning, match="retries a failed command 3 times"):
        RedisStore(_client(url, retry=Retry(NoBackoff(), 3)))
    RedisStore(_client(url))  # both set: no warning (pytest runs with -W error)


def test_a_url_that_cannot_work_is_a_redis_store_error_saying_why(url: str) -> None:
    # another service on the port (HTTP, a proxy) raised redis-py's own
    # InvalidResponse through the policy; a database Redis does not have
    # said only that Redis refused the script
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                while conn.recv(65536):
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    try:
        cases = [
            (f"redis://127.0.0.1:{port}", "did not answer as Redis"),
            (url.rsplit("/", 1)[0] + "/99", "has no such database"),
        ]
        for where, why in cases:
            store = RedisStore(where, on_error="fail_open")
            with pytest.raises(RedisStoreError, match=why):
                TokenBucket(5, 1.0, store=store, name="nowhere")
            assert store.errors == 0, "not an outage: on_error does not answer"
    finally:
        listener.close()

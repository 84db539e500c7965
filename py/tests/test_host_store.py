"""HostStore: one breaker, bucket and bulkhead shared by real processes of
one machine (issue #17, "Exact" and "Faults"). Workers: host_workers.py."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import fusewire
import host_workers as w
import pytest
from fusewire import ConfigError, HostStore, StoreError

SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture
def store_name() -> Iterator[str]:
    name = f"pytest-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    yield name
    HostStore.unlink(name)


def test_two_stores_of_one_name_share_a_bucket(store_name: str) -> None:
    a = fusewire.TokenBucket(2, 3600.0, store=HostStore(store_name), name="api")
    b = fusewire.TokenBucket(2, 3600.0, store=HostStore(store_name), name="api")
    assert a.try_acquire() and b.try_acquire()
    assert not a.try_acquire() and not b.try_acquire()
    assert HostStore(store_name).entries == 1


def test_eight_processes_never_exceed_burst_plus_rate_times_elapsed(store_name: str) -> None:
    store = HostStore(store_name)
    fusewire.TokenBucket(100, 1.0, store=store, name="api")  # made full here
    # One clock for the host: the workers start at t0 of CLOCK_MONOTONIC,
    # after their interpreters are up; the bucket is full already.
    t0 = time.monotonic_ns() + 1_500_000_000
    with ProcessPoolExecutor(8, mp_context=SPAWN) as pool:
        runs = [pool.submit(w.hammer_bucket, store_name, t0, 2.0) for _ in range(8)]
        grants = sorted(t for r in runs for t in r.result())
    span = (grants[-1] - grants[0]) / 1e9
    # Each grant's time is read after it was granted: the bound holds for
    # every prefix of the fleet's grants.
    for i, t in enumerate(grants, 1):
        assert i <= 100 + 100 * (t - t0) / 1e9, (i, (t - t0) / 1e9)
    # And the fleet took what the bucket had from its first grant on (full
    # then): not a bound that holds because nobody asked.
    assert len(grants) >= (100 + 100 * span) * 0.9, (len(grants), span)


def test_half_open_admits_exactly_k_probes_across_processes(store_name: str) -> None:
    store = HostStore(store_name)
    b = fusewire.CircuitBreaker(
        store=store,
        name="db",
        consecutive_failures=1,
        half_open_probes=3,
        open_duration=0.001,
        half_open_max_dwell=60.0,
    )
    b.trip()
    t0 = time.monotonic_ns() + 1_500_000_000
    with ProcessPoolExecutor(8, mp_context=SPAWN) as pool:
        runs = [pool.submit(w.grab_probes, store_name, t0, 0.5) for _ in range(8)]
        probes = [r.result() for r in runs]
    assert sum(probes) == 3, probes
    assert b.snapshot()["probes_in_flight"] == 3


def test_the_bulkhead_limit_holds_across_processes(store_name: str) -> None:
    fusewire.Bulkhead(3, store=HostStore(store_name), name="pool")
    inside = SPAWN.Value("i", 0)
    most = SPAWN.Value("i", 0)
    out = SPAWN.SimpleQueue()
    t0 = time.monotonic_ns() + 1_500_000_000
    procs = [
        SPAWN.Process(target=w.fill_bulkhead, args=(store_name, t0, 0.5, inside, most, out))
        for _ in range(8)
    ]
    for p in procs:
        p.start()
    calls = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    assert calls > 100
    assert most.value <= 3
    assert most.value >= 2, "the processes did overlap"


def test_a_killed_worker_loses_its_bulkhead_slots_for_at_most_its_lease(store_name: str) -> None:
    # The core's lease rule (shared form included): a slot not handed back
    # lives at most one lease and more than half of one (counted in epochs
    # of half a lease, so no per-slot timestamp is stored).
    lease = 1.0
    bulkhead = fusewire.Bulkhead(2, lease=lease, store=HostStore(store_name), name="pool")
    ready = SPAWN.Event()
    p = SPAWN.Process(target=w.hold_slots_and_wait, args=(store_name, lease, ready))
    p.start()
    assert ready.wait(30)
    assert bulkhead.try_acquire() is None
    os.kill(p.pid or 0, signal.SIGKILL)
    p.join()
    killed = time.monotonic()
    while (slot := bulkhead.try_acquire()) is None:
        assert time.monotonic() - killed < lease + 2.0, "the slots never came back"
        time.sleep(0.01)
    assert time.monotonic() - killed <= lease + 0.3  # slack for a loaded machine
    bulkhead.release(slot)
    assert bulkhead.reclaimed == 2


def test_a_killed_worker_loses_its_probe_for_at_most_the_dwell(store_name: str) -> None:
    breaker = w.probe_breaker(store_name)
    breaker.trip()
    ready = SPAWN.Event()
    p = SPAWN.Process(target=w.hold_probe_and_wait, args=(store_name, ready))
    p.start()
    assert ready.wait(30)
    with pytest.raises(fusewire.CircuitOpenError):
        breaker.acquire()
    os.kill(p.pid or 0, signal.SIGKILL)
    p.join()
    killed = time.monotonic()
    # The dwell (0.5 s) reopens the breaker, its open time (0.05 s) ends,
    # and a new probe is there.
    while True:
        try:
            permit = breaker.acquire()
            break
        except fusewire.CircuitOpenError:
            assert time.monotonic() - killed < 2.0, "the probe never came back"
            time.sleep(0.01)
    assert permit.probe
    assert time.monotonic() - killed <= 0.5 + 0.05 + 0.3  # slack for a loaded machine
    permit.success()
    assert breaker.state == "closed"


def test_two_processes_disagreeing_on_a_config_get_a_typed_error(store_name: str) -> None:
    fusewire.TokenBucket(100, store=HostStore(store_name), name="api")
    with ProcessPoolExecutor(1, mp_context=SPAWN) as pool:
        assert pool.submit(w.bind_bucket, store_name, 100).result() == "ok"
        # burst defaults to the rate, so it is the first option that differs
        assert pool.submit(w.bind_bucket, store_name, 50).result() == "burst"
    with pytest.raises(ConfigError) as e:
        fusewire.Bulkhead(3, store=HostStore(store_name), name="api")
    assert e.value.field == "name"
    with pytest.raises(ConfigError) as e:
        fusewire.TokenBucket(100, burst=7, store=HostStore(store_name), name="api")
    assert e.value.field == "burst" and "burst = 100" in str(e.value)
    with pytest.raises(ConfigError) as e:
        fusewire.TokenBucket(100, 2.0, burst=100, store=HostStore(store_name), name="api")
    assert e.value.field == "rate"


def test_a_pickled_policy_binds_the_same_state_in_a_pool_child(store_name: str) -> None:
    bucket = fusewire.TokenBucket(5, 3600.0, store=HostStore(store_name), name="api")
    assert bucket.try_acquire()
    with ProcessPoolExecutor(1, mp_context=SPAWN) as pool:
        taken, pid = pool.submit(w.take_all, bucket).result()
    assert pid != os.getpid()
    assert taken == 4
    assert not bucket.try_acquire()
    again = pickle.loads(pickle.dumps(HostStore(store_name)))
    assert again.name == store_name


def test_a_region_mapped_before_fork_stays_valid_in_the_child(store_name: str) -> None:
    bucket = fusewire.TokenBucket(10, 3600.0, store=HostStore(store_name), name="api")
    pid = os.fork()
    if pid == 0:  # the child: the parent's mapping, used as is
        n = 0
        while bucket.try_acquire():
            n += 1
        os._exit(n)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 10
    assert not bucket.try_acquire()


def test_bad_names_sizes_and_configs_are_typed_errors(store_name: str) -> None:
    with pytest.raises(ConfigError) as e:
        HostStore("a/b")
    assert e.value.field == "store"
    with pytest.raises(TypeError, match="name"):
        HostStore(3)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as e:
        HostStore(store_name, size=10)
    assert e.value.field == "size"
    store = HostStore(store_name)
    with pytest.raises(ConfigError) as e:
        fusewire.TokenBucket(1, store=store, name="x" * 65)
    assert e.value.field == "name"
    with pytest.raises(ConfigError) as e:
        fusewire.CircuitBreaker(store=store, name="t", window_duration=10.0, window_buckets=65)
    assert e.value.field == "window_buckets"
    with pytest.raises(ConfigError) as e:
        fusewire.CircuitBreaker(store=store, name="t", window_duration=10.0, window_buckets=0)
    assert e.value.field == "window_buckets"
    with pytest.raises(ConfigError) as e:
        fusewire.CircuitBreaker(store=store, name="w", window_size=7, min_calls=5)
    assert e.value.field == "window_size"


def test_a_full_store_raises_store_error(store_name: str) -> None:
    store = HostStore(store_name, size=64 * 1024)
    with pytest.raises(StoreError) as e:
        for i in range(10_000):
            fusewire.RetryBudget(store=store, name=f"b{i}")
    assert e.value.reason == "full" and e.value.store == store_name


def test_a_shared_breaker_opens_for_every_process(store_name: str) -> None:
    a = fusewire.CircuitBreaker(store=HostStore(store_name), name="db", consecutive_failures=2)
    b = fusewire.CircuitBreaker(store=HostStore(store_name), name="db", consecutive_failures=2)
    changes: list[str] = []
    a.add_listener(lambda c: changes.append(c.to_state))

    def fail() -> None:
        raise OSError("down")

    for _ in range(2):
        with pytest.raises(OSError):
            a.call(fail)
    assert changes == ["open"]
    with pytest.raises(fusewire.CircuitOpenError):
        b.call(lambda: None)
    assert b.state == "open" and b.snapshot()["failures"] == 2
    b.close()
    assert a.state == "closed"


def test_a_time_window_breaker_shared_by_processes_opens_for_all_and_ages_out(
    store_name: str,
) -> None:
    # 1.5 s in 5 buckets of 0.3 s, min 3 calls, 50%: another process's
    # failures count here, age out after the span, and its trip opens the
    # breaker for this process too.
    b = fusewire.CircuitBreaker(store=HostStore(store_name), name="tw", **w.TIMED)

    def fail() -> None:
        raise OSError("down")

    with ProcessPoolExecutor(1, mp_context=SPAWN) as pool:
        assert pool.submit(w.fail_timed, store_name, 0).result() == "closed"  # warm
        assert pool.submit(w.fail_timed, store_name, 2).result() == "closed"
        assert b.snapshot()["failures"] == 2
        # The span plus a bucket later (the region's clock; no clock= in a
        # store), both have aged out: one more failure is 1 of 1.
        time.sleep(1.8)
        assert b.snapshot()["failures"] == 0
        with pytest.raises(OSError):
            b.call(fail)
        assert b.state == "closed"
        # Two more in the worker: 3 failures of 3 within the span.
        assert pool.submit(w.fail_timed, store_name, 2).result() == "open"
    assert b.state == "open"
    with pytest.raises(fusewire.CircuitOpenError):
        b.call(lambda: None)
    snap = b.snapshot()
    assert snap["failures"] == 3 and snap["rejected"] == 1


def test_a_time_window_with_started_calls_counts_every_process_s_starts(
    store_name: str,
) -> None:
    kw = {"window_duration": 60.0, "min_calls": 4, "rate_basis": "started"}
    a = fusewire.CircuitBreaker(store=HostStore(store_name), name="s", **kw)
    b = fusewire.CircuitBreaker(store=HostStore(store_name), name="s", **kw)
    permits = [a.acquire(), b.acquire(), a.acquire()]
    assert a.snapshot()["admitted"] == 3
    assert permits[0].failure() is None  # 1 failure, 3 started: below min_calls
    b.acquire()
    change = permits[1].failure()  # 2 failures of 4 started: 50%
    assert change is not None and change.to_state == "open"
    assert a.state == "open"


def test_a_shared_budget_and_retrying(store_name: str) -> None:
    budget = fusewire.RetryBudget(4, 0.5, store=HostStore(store_name), name="r")
    other = fusewire.RetryBudget(4, 0.5, store=HostStore(store_name), name="r")
    assert budget.try_retry()
    for _ in range(3):
        other.record_failure()
    assert not budget.can_retry and budget.tokens == other.tokens
    retrying = fusewire.Retrying(max_attempts=5, budget=budget, sleep=lambda s: None)
    calls = []

    def fail() -> None:
        calls.append(1)
        raise OSError

    with pytest.raises(fusewire.RetryError) as e:
        retrying(fail)()
    assert e.value.reason == "budget" and len(calls) == 1


def test_a_pool_refuses_a_stored_budget(store_name: str) -> None:
    budget = fusewire.RetryBudget(store=HostStore(store_name), name="r")
    with pytest.raises(ConfigError) as e:
        fusewire.Pool(["a", "b"], budget=budget)
    assert e.value.field == "budget"


def test_every_breaker_api_settles_through_the_store(store_name: str) -> None:
    import asyncio

    store = HostStore(store_name)
    breaker = fusewire.CircuitBreaker(store=store, name="db", consecutive_failures=3)
    other = fusewire.CircuitBreaker(store=store, name="db", consecutive_failures=3)

    with breaker:  # a with block
        pass
    with breaker.acquire() as permit:  # a permit
        assert not permit.probe

    @breaker
    async def down() -> None:
        raise OSError

    async def main() -> None:
        async with breaker:  # an async with block
            pass
        with pytest.raises(OSError):
            await down()  # the async decorator (_start/_end)

    asyncio.run(main())
    with pytest.raises(OSError), breaker:
        raise OSError
    p = breaker.acquire()
    p.failure()
    assert other.state == "open", other.snapshot()
    assert other.snapshot()["successes"] == 3 and other.snapshot()["failures"] == 3

"""Worker processes of test_host_store.py (module level, so `spawn` finds them)."""

from __future__ import annotations

import os
import time
from typing import Any

import fusewire


def wait_until(start_ns: int) -> None:
    """Every process of the host reads one clock (CLOCK_MONOTONIC): a start
    time in it is a start line for all of them."""
    while (left := start_ns - time.monotonic_ns()) > 0:
        time.sleep(min(left / 1e9, 0.01))


def hammer_bucket(store: str, start_ns: int, seconds: float) -> list[int]:
    """Takes tokens of bucket "api" as fast as it can; the grant times (ns)."""
    bucket = fusewire.TokenBucket(100, 1.0, store=fusewire.HostStore(store), name="api")
    wait_until(start_ns)
    granted: list[int] = []
    end = time.monotonic_ns() + int(seconds * 1e9)
    while (t := time.monotonic_ns()) < end:
        if bucket.try_acquire():
            granted.append(time.monotonic_ns())
        del t
    return granted


def grab_probes(store: str, start_ns: int, seconds: float) -> int:
    """Asks breaker "db" for calls and keeps every permit; the probes it got."""
    breaker = fusewire.CircuitBreaker(
        store=fusewire.HostStore(store),
        name="db",
        consecutive_failures=1,
        half_open_probes=3,
        open_duration=0.001,
        half_open_max_dwell=60.0,
    )
    wait_until(start_ns)
    held: list[fusewire.Permit] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            held.append(breaker.acquire())
        except fusewire.CircuitOpenError:
            pass
    assert all(p.probe for p in held)
    return len(held)


def fill_bulkhead(
    store: str, start_ns: int, seconds: float, inside: Any, most: Any, out: Any
) -> None:
    """Runs short calls in bulkhead "pool"; puts how many in `out`, tracking
    how many are inside at once over all processes (`inside`, `most`)."""
    bulkhead = fusewire.Bulkhead(3, store=fusewire.HostStore(store), name="pool")
    wait_until(start_ns)
    calls = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        slot = bulkhead.try_acquire()
        if slot is None:
            continue
        with inside.get_lock():
            inside.value += 1
            most.value = max(most.value, inside.value)
        calls += 1
        with inside.get_lock():
            inside.value -= 1
        bulkhead.release(slot)
    out.put(calls)


def hold_slots_and_wait(store: str, lease: float, ready: Any) -> None:
    """Takes every slot of bulkhead "pool", says so, and waits to be killed."""
    bulkhead = fusewire.Bulkhead(2, lease=lease, store=fusewire.HostStore(store), name="pool")
    slots = [bulkhead.acquire(), bulkhead.acquire()]
    ready.set()
    time.sleep(600)
    del slots


def hold_probe_and_wait(store: str, ready: Any) -> None:
    """Takes the one probe of breaker "db", says so, and waits to be killed."""
    breaker = fusewire.CircuitBreaker(**_probe_breaker(store))
    while True:
        try:
            permit = breaker.acquire()
            break
        except fusewire.CircuitOpenError:
            time.sleep(0.001)
    assert permit.probe
    ready.set()
    time.sleep(600)


def _probe_breaker(store: str) -> dict[str, Any]:
    return {
        "store": fusewire.HostStore(store),
        "name": "db",
        "consecutive_failures": 1,
        "open_duration": 0.05,
        "half_open_max_dwell": 0.5,
    }


def probe_breaker(store: str) -> fusewire.CircuitBreaker:
    return fusewire.CircuitBreaker(**_probe_breaker(store))


def bind_bucket(store: str, rate: int) -> str:
    """Binds bucket "api" at `rate`; the ConfigError's field, or "ok"."""
    try:
        fusewire.TokenBucket(rate, store=fusewire.HostStore(store), name="api")
    except fusewire.ConfigError as e:
        return e.field
    return "ok"


def take_all(bucket: fusewire.TokenBucket) -> tuple[int, int]:
    """Takes every token there is; (tokens, pid)."""
    n = 0
    while bucket.try_acquire():
        n += 1
    return n, os.getpid()

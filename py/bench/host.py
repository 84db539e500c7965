"""Decision cost in-process vs HostStore (issue #17), one run, side by side.

Latency: each sample times a batch of 100 decisions and divides (the
timer's own cost is ~50 ns, as much as a decision); p50/p99 over 2000
batches. Throughput: decisions per second summed over 1 or 8 processes
(spawned), each deciding for 1 s; in-process each process has its own
policy, HostStore they all share one (one cache line fought over).

Run: python bench/host.py  (prints a Markdown table)
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable

import fusewire

BATCH = 100
SAMPLES = 2000
KINDS = ["bucket.try_acquire", "breaker.call", "bulkhead acquire+release"]


def make(kind: str, store_name: str | None) -> Callable[[], object]:
    store = fusewire.HostStore(store_name) if store_name else None
    extra = {"store": store, "name": kind} if store else {}
    if kind == "bucket.try_acquire":
        b = fusewire.TokenBucket(1_000_000_000, 1.0, **extra)  # never empty
        return b.try_acquire
    if kind == "breaker.call":
        br = fusewire.CircuitBreaker(half_open_max_dwell=5.0, **extra)

        def ok() -> None:
            return None

        return lambda: br.call(ok)
    h = fusewire.Bulkhead(1_000_000, **extra)

    def slot() -> None:
        h.release(h.acquire())

    return slot


def latency(kind: str, store_name: str | None) -> tuple[float, float]:
    f = make(kind, store_name)
    for _ in range(10_000):
        f()
    per: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(SAMPLES):
        t = clock()
        for _ in range(BATCH):
            f()
        per.append((clock() - t) / BATCH)
    per.sort()
    return statistics.median(per), per[int(len(per) * 0.99)]


def worker(kind: str, store_name: str | None, start_ns: int, out: object) -> None:
    f = make(kind, store_name)
    while time.monotonic_ns() < start_ns:
        time.sleep(0.001)
    n = 0
    end = start_ns + 1_000_000_000
    while time.monotonic_ns() < end:
        for _ in range(BATCH):
            f()
        n += BATCH
    out.put(n)  # type: ignore[attr-defined]


def throughput(kind: str, store_name: str | None, procs: int) -> float:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.SimpleQueue()
    start = time.monotonic_ns() + 1_500_000_000
    ps = [ctx.Process(target=worker, args=(kind, store_name, start, out)) for _ in range(procs)]
    for p in ps:
        p.start()
    total = sum(out.get() for _ in ps)
    for p in ps:
        p.join()
    return total / 1.0


def main() -> None:
    name = f"bench-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    fusewire.HostStore(name)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")
    print()
    print("| decision | store | p50 ns | p99 ns | 1 process /s | 8 processes /s |")
    print("|---|---|---:|---:|---:|---:|")
    try:
        for kind in KINDS:
            for label, store in [("in-process", None), ("HostStore", name)]:
                p50, p99 = latency(kind, store)
                t1 = throughput(kind, store, 1)
                t8 = throughput(kind, store, 8)
                print(f"| `{kind}` | {label} | {p50:.0f} | {p99:.0f} | {t1:,.0f} | {t8:,.0f} |")
    finally:
        fusewire.HostStore.unlink(name)


if __name__ == "__main__":
    main()

"""Decision latency and throughput of the fleet tier (issue #17), side by
side in one run on a loopback redis-server: fusewire in-process, fusewire
through RedisStore (and its lease mode), pybreaker's CircuitRedisStorage and
``limits``' Redis storage. One process, then 8 processes on one shared key.

    python redis_bench.py [--seconds 1.5] [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import inspect
import multiprocessing as mp
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "redis"))
from server import RedisServer

BIG = 10**9  # a rate no run reaches: every decision is a grant, we time the deciding


def _noop() -> None:
    return None


def make(kind: str, url: str) -> tuple[Callable[[], Any], int]:
    """The decision to time, and how many Redis round trips it is meant to make."""
    import fusewire

    if kind == "fusewire bucket, in-process":
        b = fusewire.TokenBucket(BIG, 1.0, burst=BIG)
        return b.try_acquire, 0
    if kind == "fusewire bucket, RedisStore":
        b = fusewire.TokenBucket(
            BIG, 1.0, burst=BIG, store=fusewire.RedisStore(url, timeout=1.0), name="bench"
        )
        return b.try_acquire, 1
    if kind in (
        "fusewire bucket, RedisStore, awaited (`async with bucket`)",
        "fusewire bucket, RedisStore, awaited, 8 tasks in one event loop",
    ):
        b = fusewire.TokenBucket(
            BIG, 1.0, burst=BIG, store=fusewire.RedisStore(url, timeout=1.0), name="bench-async"
        )

        async def take() -> None:
            async with b:
                pass

        return take, 1
    if kind == "fusewire bucket, RedisStore lease=100":
        s = fusewire.RedisStore(url, timeout=1.0, lease=100)
        b = fusewire.TokenBucket(BIG, 1.0, burst=BIG, store=s, name="bench-lease")
        return b.try_acquire, 0
    if kind == "limits MovingWindow, Redis":
        import limits
        import limits.storage
        import limits.strategies

        storage = limits.storage.storage_from_string(url)
        mw = limits.strategies.MovingWindowRateLimiter(storage)
        item = limits.RateLimitItemPerSecond(BIG)
        return lambda: mw.hit(item, "bench"), 1
    if kind == "limits FixedWindow, Redis":
        import limits
        import limits.storage
        import limits.strategies

        storage = limits.storage.storage_from_string(url)
        fw = limits.strategies.FixedWindowRateLimiter(storage)
        item = limits.RateLimitItemPerSecond(BIG)
        return lambda: fw.hit(item, "bench-fixed"), 1
    if kind == "fusewire breaker call, in-process":
        br = fusewire.CircuitBreaker()
        return lambda: br.call(_noop), 0
    if kind == "fusewire breaker call, RedisStore":
        br = fusewire.CircuitBreaker(store=fusewire.RedisStore(url, timeout=1.0), name="bench")
        return lambda: br.call(_noop), 2
    if kind == "fusewire breaker call, RedisStore, awaited (`await breaker.call_async(f)`)":
        br = fusewire.CircuitBreaker(
            store=fusewire.RedisStore(url, timeout=1.0), name="bench-async"
        )

        async def anoop() -> None:
            return None

        async def call() -> None:
            await br.call_async(anoop)

        return call, 2
    if kind == "pybreaker call, CircuitRedisStorage":
        import pybreaker
        import redis

        storage = pybreaker.CircuitRedisStorage(
            pybreaker.STATE_CLOSED, redis.Redis.from_url(url), namespace="bench"
        )
        pb = pybreaker.CircuitBreaker(state_storage=storage)
        return lambda: pb.call(_noop), 0
    raise ValueError(kind)


KINDS = [
    "fusewire bucket, in-process",
    "fusewire bucket, RedisStore",
    "fusewire bucket, RedisStore, awaited (`async with bucket`)",
    "fusewire bucket, RedisStore, awaited, 8 tasks in one event loop",
    "fusewire bucket, RedisStore lease=100",
    "limits FixedWindow, Redis",
    "limits MovingWindow, Redis",
    "fusewire breaker call, in-process",
    "fusewire breaker call, RedisStore",
    "fusewire breaker call, RedisStore, awaited (`await breaker.call_async(f)`)",
    "pybreaker call, CircuitRedisStorage",
]


SENT = [0]
TRIPS = [0.0]


def count_round_trips() -> None:
    """Counts what every redis-py connection sends (a pipeline is one send)."""
    import redis.connection

    send = redis.connection.Connection.send_packed_command

    def counted(self: Any, command: Any, check_health: bool = True) -> None:
        SENT[0] += 1
        send(self, command, check_health)

    redis.connection.Connection.send_packed_command = counted  # type: ignore[method-assign]

    import redis.asyncio.connection

    asend = redis.asyncio.connection.Connection.send_packed_command

    async def acounted(self: Any, command: Any, check_health: bool = True) -> None:
        SENT[0] += 1
        await asend(self, command, check_health)

    redis.asyncio.connection.Connection.send_packed_command = acounted  # type: ignore[method-assign]


async def run_async(
    decide: Callable[[], Any], seconds: float, tasks: int = 1
) -> tuple[list[int], float]:
    """``run`` for an awaited decision, timed inside one event loop, by
    ``tasks`` tasks at once (each decision timed alone in its task)."""
    for _ in range(200):
        await decide()
    SENT[0] = 0
    samples: list[int] = []
    clock = time.perf_counter_ns
    end = clock() + int(seconds * 1e9)
    start = clock()

    async def one() -> None:
        while True:
            t = clock()
            if t >= end:
                break
            await decide()
            samples.append(clock() - t)

    await asyncio.gather(*(one() for _ in range(tasks)))
    return samples, (clock() - start) / 1e9


def run(kind: str, url: str, seconds: float, q: Any = None) -> tuple[list[int], float]:
    decide, _ = make(kind, url)
    if inspect.iscoroutinefunction(decide):
        tasks = 8 if "8 tasks" in kind else 1
        samples, wall = asyncio.run(run_async(decide, seconds, tasks))
        TRIPS[0] = SENT[0] / max(len(samples), 1)
        if q is not None:
            q.put((samples, wall))
        return samples, wall
    for _ in range(200):  # warm up (script load, connection)
        decide()
    SENT[0] = 0
    samples: list[int] = []
    clock = time.perf_counter_ns
    end = clock() + int(seconds * 1e9)
    start = clock()
    while True:
        t = clock()
        if t >= end:
            break
        decide()
        samples.append(clock() - t)
    wall = (clock() - start) / 1e9
    TRIPS[0] = SENT[0] / max(len(samples), 1)
    if q is not None:
        q.put((samples, wall))
    return samples, wall


def pct(sorted_ns: list[int], p: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(len(sorted_ns) * p))] / 1000


def measure(kind: str, url: str, seconds: float, procs: int) -> tuple[float, float, float]:
    if procs == 1:
        samples, wall = run(kind, url, seconds)
        results = [(samples, wall)]
    else:
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        ps = [ctx.Process(target=run, args=(kind, url, seconds, q)) for _ in range(procs)]
        for p in ps:
            p.start()
        results = [q.get() for _ in ps]
        for p in ps:
            p.join()
    allns = sorted(x for s, _ in results for x in s)
    rate = sum(len(s) / w for s, w in results)
    return pct(allns, 0.5), pct(allns, 0.99), rate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.5)
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()
    from importlib.metadata import version as v

    import redis

    rows = []
    count_round_trips()
    with RedisServer() as server:
        rs = redis.Redis.from_url(server.url)
        version = rs.info()["redis_version"]
        for procs in (1, 8):
            for kind in KINDS:
                rs.flushall()
                p50, p99, rate = measure(kind, server.url, args.seconds, procs)
                trips = f"{TRIPS[0]:.2f}" if procs == 1 else "as above"
                rows.append((procs, kind, p50, p99, rate, trips))
                print(
                    f"{procs}p  {kind:40s} p50 {p50:8.1f} us  p99 {p99:8.1f} us  {rate:10.0f}/s",
                    flush=True,
                )
    lines = [
        "## Fleet tier: RedisStore (issue #17)",
        "",
        f"`make -C py bench-redis` ({datetime.date.today()}, {platform.machine()}, 2 cores shared with other "
        f"engineers' builds: absolute figures are noisy, compare rows of one run). redis-server {version} on "
        f"loopback (no persistence), Python {platform.python_version()}, fusewire {v('fusewire')}, "
        f"redis-py {v('redis')}, limits {v('limits')}, pybreaker {v('pybreaker')}. "
        "Each decision timed alone (perf_counter_ns); 8 processes share one key; throughput is the sum over "
        "processes. Round trips per decision: what redis-py sent (a pipeline counts once) in the 1-process "
        "run, divided by its decisions. `RedisStore` makes one EVALSHA per bucket decision (a breaker call is "
        "two: acquire and record, each one atomic script); lease mode takes 100 tokens per round trip. "
        "The awaited rows are the async paths (`redis.asyncio`, one client per event loop), each "
        "decision awaited alone in one event loop, beside the sync rows of the same run. "
        "pybreaker's storage reads and writes the state with separate commands, not atomically (two "
        "processes can both count a failure and both trip, and half-open probes are not owned).",
        "",
        "| processes | decision | p50 (µs) | p99 (µs) | decisions/s | round trips per decision (measured) |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for procs, kind, p50, p99, rate, trips in rows:
        lines.append(f"| {procs} | {kind} | {p50:.1f} | {p99:.1f} | {rate:,.0f} | {trips} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        doc = args.write.read_text()
        head = "## Fleet tier: RedisStore (issue #17)"
        if head in doc:
            # the heading, its paragraph and the table; the prose after stays
            start = doc.index(head)
            table = doc.index("\n|", start)
            end = table + 1
            while doc.startswith("|", end):
                end = doc.index("\n", end) + 1
            doc = doc[:start] + text + doc[end:]
        else:
            doc = doc.rstrip("\n") + "\n\n" + text
        args.write.write_text(doc)


if __name__ == "__main__":
    main()

"""Per-call overhead on the success path: fusewire vs its Python peers.

Run by `make bench` in its own virtualenv (the peers are installed only
there). Each case is timed in loops of LOOPS calls, REPEATS times; the
figure is the median per call minus the median of calling the bare
function (the overhead the policy adds). `--write FILE` replaces the
`## Python` section of FILE (BENCHMARKS.md) with the table.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import re
import statistics
import sys
import time
from importlib.metadata import version
from typing import Any, Callable

import circuitbreaker
import fusewire
import pybreaker
import tenacity
from pyrate_limiter import Duration, Limiter, Rate

LOOPS = 100_000
REPEATS = 11


def per_call_ns(stmt: Callable[[], Any]) -> float:
    samples = []
    for _ in range(REPEATS):
        t0 = time.perf_counter_ns()
        for _ in range(LOOPS):
            stmt()
        samples.append((time.perf_counter_ns() - t0) / LOOPS)
    return statistics.median(samples)


def noop() -> int:
    return 1


async def anoop() -> int:
    return 1


def refused(call: Callable[[], Any], error: type[BaseException]) -> Callable[[], None]:
    """A call refused by an open breaker, caught as a caller would."""

    def attempt() -> None:
        try:
            call()
        except error:
            pass

    return attempt


def async_per_call_ns(make: Callable[[], Any]) -> float:
    """``await make()`` per call, timed inside one event loop."""

    async def run() -> float:
        samples = []
        for _ in range(REPEATS):
            t0 = time.perf_counter_ns()
            for _ in range(LOOPS):
                await make()
            samples.append((time.perf_counter_ns() - t0) / LOOPS)
        return statistics.median(samples)

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", help="BENCHMARKS.md to update")
    args = parser.parse_args()

    fw_breaker = fusewire.CircuitBreaker()
    fw_decorated = fw_breaker(noop)
    pb = pybreaker.CircuitBreaker()
    pb_decorated = pb(noop)
    cb_decorated = circuitbreaker.circuit(noop)
    fw_retry = fusewire.retry(max_attempts=3)(noop)
    ten_retry = tenacity.retry(stop=tenacity.stop_after_attempt(3))(noop)
    fw_bucket = fusewire.TokenBucket(4_000_000_000, 1.0)
    pyrate = Limiter(Rate(10**9, Duration.SECOND))
    fw_bulkhead = fusewire.Bulkhead(100)
    fw_open = fusewire.CircuitBreaker(name="open")
    fw_open.force_open()
    fw_open_decorated = fw_open(noop)
    pb_open = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=3600)
    pb_open.open()
    pb_open_decorated = pb_open(noop)

    @circuitbreaker.circuit(failure_threshold=1, recovery_timeout=3600)
    def cb_open_decorated() -> int:
        raise OSError("down")

    try:
        cb_open_decorated()
    except OSError:
        pass
    fw_async = fw_breaker(anoop)
    cb_async = circuitbreaker.circuit(anoop)
    fw_retry_async = fusewire.retry(max_attempts=3)(anoop)
    ten_retry_async = tenacity.retry(stop=tenacity.stop_after_attempt(3))(anoop)

    def fw_with() -> None:
        with fw_breaker:
            noop()

    def pb_with() -> None:
        with pb.calling():
            noop()

    base = per_call_ns(noop)
    rows: list[tuple[str, str, float, str, float, float]] = []

    def row(
        what: str,
        aim: float,
        fw: Callable[[], Any],
        peers: list[tuple[str, Callable[[], Any]]],
        *,
        raw: bool = False,
    ) -> None:
        fw_ns = per_call_ns(fw) - (0 if raw else base)
        for name, peer in peers:
            peer_ns = per_call_ns(peer) - (0 if raw else base)
            rows.append((what, f"{fw_ns:.0f}", aim, name, peer_ns, fw_ns / peer_ns))
        if not peers:
            rows.append((what, f"{fw_ns:.0f}", aim, "—", float("nan"), float("nan")))

    row(
        "breaker, decorator `@breaker`",
        250,
        fw_decorated,
        [("pybreaker", pb_decorated), ("circuitbreaker", cb_decorated)],
    )
    row(
        "breaker, `breaker.call(f)`",
        200,
        lambda: fw_breaker.call(noop),
        [("pybreaker `call`", lambda: pb.call(noop))],
    )
    row("retry, decorator, first attempt succeeds", 500, fw_retry, [("tenacity", ten_retry)])
    row(
        "token bucket, `try_acquire()` granted",
        150,
        fw_bucket.try_acquire,
        [("pyrate-limiter `try_acquire`", lambda: pyrate.try_acquire("k", blocking=False))],
        raw=True,
    )
    row("bulkhead, `bulkhead.call(f)`", 0, lambda: fw_bulkhead.call(noop), [])
    row(
        "breaker, `with breaker: f()`",
        200,
        fw_with,
        [("pybreaker `with calling()`", pb_with), ("circuitbreaker decorator", cb_decorated)],
    )
    row(
        "breaker open: refused call, raised and caught",
        400,
        refused(fw_open_decorated, fusewire.CircuitOpenError),
        [
            ("pybreaker", refused(pb_open_decorated, pybreaker.CircuitBreakerError)),
            ("circuitbreaker", refused(cb_open_decorated, circuitbreaker.CircuitBreakerError)),
        ],
    )
    async_base = async_per_call_ns(anoop)
    fw_async_ns = async_per_call_ns(fw_async) - async_base
    for what, aim, fw_ns_a, peer, peer_ns_a in (
        (
            "breaker, `async def` decorator",
            250,
            fw_async_ns,
            "circuitbreaker",
            async_per_call_ns(cb_async) - async_base,
        ),
        (
            "retry, `async def` decorator, first attempt succeeds",
            0,
            async_per_call_ns(fw_retry_async) - async_base,
            "tenacity",
            async_per_call_ns(ten_retry_async) - async_base,
        ),
    ):
        rows.append((what, f"{fw_ns_a:.0f}", aim, peer, peer_ns_a, fw_ns_a / peer_ns_a))

    lines = [
        "## Python",
        "",
        f"`make -C py bench`, {datetime.date.today().isoformat()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs shared with other builds, CPython {platform.python_version()}, "
        f"fusewire {fusewire.__version__} (abi3 release wheel), pybreaker {version('pybreaker')}, "
        f"circuitbreaker {version('circuitbreaker')}, tenacity {version('tenacity')}, "
        f"pyrate-limiter {version('pyrate-limiter')}.",
        f"Median of {REPEATS} runs of {LOOPS:,} calls; overhead = time per guarded call minus a bare call "
        f"of the same no-op function ({base:.0f} ns; `await` of a bare `async def`: "
        f"{async_base:.0f} ns); the token bucket rows are the whole call. "
        "ratio = fusewire / peer (below 1 is faster).",
        "",
        "| success path | fusewire | aim | peer | peer ns | ratio |",
        "| --- | ---: | ---: | --- | ---: | ---: |",
    ]
    for what, fw_ns, aim, name, peer_ns, ratio in rows:
        aim_s = f"≤ {aim:.0f} ns" if aim else "—"
        peer_s = "—" if peer_ns != peer_ns else f"{peer_ns:.0f} ns"
        ratio_s = "—" if ratio != ratio else f"{ratio:.2f}"
        lines.append(f"| {what} | {fw_ns} ns | {aim_s} | {name} | {peer_s} | {ratio_s} |")
    clock_ns = per_call_ns(time.monotonic_ns) - base
    load = os.getloadavg()[0]
    lines += [
        "",
        f"Load average at the run: {load:.1f} on {os.cpu_count()} CPUs; the machine is shared, so "
        "absolute figures move between runs: compare ratios within one run. One read of the "
        f"monotonic clock costs about {clock_ns:.0f} ns on this VM (`time.monotonic_ns()` minus a "
        "bare call); the breaker reads it once per successful call (twice when the slow-call rule "
        "or a time window needs the end time), the bucket once, retry and bulkhead never on the "
        "success path. Each policy call also takes and drops one uncontended `std::sync::Mutex` "
        "per core call (twice for the breaker and bulkhead).",
    ]
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        with open(args.write, encoding="utf-8") as f:
            text = f.read()
        pattern = re.compile(r"^## Python\n.*?(?=^## |\Z)", re.S | re.M)
        if pattern.search(text):
            text = pattern.sub(lambda _: section + "\n", text, count=1)
        else:
            text = text.rstrip("\n") + "\n\n" + section
        with open(args.write, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote the Python section of {args.write}", file=sys.stderr)


if __name__ == "__main__":
    main()

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
import math
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import circuitbreaker
import fusewire
import pybreaker
import tenacity
from pyrate_limiter import Duration, Limiter, Rate

LOOPS = 100_000
REPEATS = 11


class Timings:
    """Every case is timed in each of REPEATS rounds, round-robin, so cases
    compared in one table row ran under the same load; a case's figure is
    its fastest round (on a machine shared with other builds, slower rounds
    measure the neighbours, not the code)."""

    def __init__(self) -> None:
        self.sync: list[Callable[[], Any]] = []
        self.asyncs: list[Callable[[], Any]] = []
        self.best: dict[tuple[str, int], float] = {}

    def add(self, stmt: Callable[[], Any]) -> tuple[str, int]:
        self.sync.append(stmt)
        return ("sync", len(self.sync) - 1)

    def add_async(self, make: Callable[[], Any]) -> tuple[str, int]:
        """``await make()`` per call, timed inside one event loop."""
        self.asyncs.append(make)
        return ("async", len(self.asyncs) - 1)

    def _keep(self, key: tuple[str, int], ns: float) -> None:
        self.best[key] = min(self.best.get(key, float("inf")), ns)

    def run(self) -> None:
        for _ in range(REPEATS):
            for i, stmt in enumerate(self.sync):
                t0 = time.perf_counter_ns()
                for _ in range(LOOPS):
                    stmt()
                self._keep(("sync", i), (time.perf_counter_ns() - t0) / LOOPS)

        async def rounds() -> None:
            for _ in range(REPEATS):
                for i, make in enumerate(self.asyncs):
                    t0 = time.perf_counter_ns()
                    for _ in range(LOOPS):
                        await make()
                    self._keep(("async", i), (time.perf_counter_ns() - t0) / LOOPS)

        asyncio.run(rounds())

    def __getitem__(self, key: tuple[str, int]) -> float:
        return self.best[key]


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

    class NoopBlock:
        """The `with` statement's own cost: a context manager doing nothing."""

        def __enter__(self) -> None:
            return None

        def __exit__(self, *exc: object) -> None:
            return None

    noop_block = NoopBlock()

    def py_with() -> None:
        with noop_block:
            noop()

    def py_raise() -> None:
        raise fusewire.CircuitOpenError("open", math.inf, "forced_open")

    async def py_async_wrapper(*args: Any, **kwargs: Any) -> Any:
        """Any `async def` decorator's own cost: a wrapper that only awaits."""
        return await anoop(*args, **kwargs)

    def pb_with() -> None:
        with pb.calling():
            noop()

    timings = Timings()
    base_key = timings.add(noop)
    async_base_key = timings.add_async(anoop)
    # (what, aim, fusewire case, [(peer, case)], whole call?, async?)
    plan: list[tuple[str, float, Any, list[tuple[str, Any]], bool, bool]] = []

    def row(
        what: str,
        aim: float,
        fw: Callable[[], Any],
        peers: list[tuple[str, Callable[[], Any]]],
        *,
        raw: bool = False,
        is_async: bool = False,
    ) -> None:
        add = timings.add_async if is_async else timings.add
        plan.append((what, aim, add(fw), [(n, add(p)) for n, p in peers], raw, is_async))

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
        [
            ("pybreaker `with calling()`", pb_with),
            ("circuitbreaker decorator", cb_decorated),
            ("floor: a no-op Python `with` block", py_with),
        ],
    )
    row(
        "breaker open: refused call, raised and caught",
        400,
        refused(fw_open_decorated, fusewire.CircuitOpenError),
        [
            ("pybreaker", refused(pb_open_decorated, pybreaker.CircuitBreakerError)),
            ("circuitbreaker", refused(cb_open_decorated, circuitbreaker.CircuitBreakerError)),
            (
                "floor: a Python function raising the same error",
                refused(py_raise, fusewire.CircuitOpenError),
            ),
        ],
    )
    row(
        "breaker, `async def` decorator",
        250,
        fw_async,
        [
            ("circuitbreaker", cb_async),
            ("floor: a no-op `async def` wrapper awaiting it", py_async_wrapper),
        ],
        is_async=True,
    )
    row(
        "retry, `async def` decorator, first attempt succeeds",
        0,
        fw_retry_async,
        [("tenacity", ten_retry_async)],
        is_async=True,
    )
    clock_key = timings.add(time.monotonic_ns)
    timings.run()
    base, async_base = timings[base_key], timings[async_base_key]
    rows: list[tuple[str, str, float, str, float, float]] = []
    for what, aim, fw_key, peer_keys, raw, is_async in plan:
        floor = 0.0 if raw else (async_base if is_async else base)
        fw_ns = timings[fw_key] - floor
        for name, key in peer_keys:
            peer_ns = timings[key] - floor
            rows.append((what, f"{fw_ns:.0f}", aim, name, peer_ns, fw_ns / peer_ns))
        if not peer_keys:
            rows.append((what, f"{fw_ns:.0f}", aim, "—", float("nan"), float("nan")))

    lines = [
        "## Python",
        "",
        f"`make -C py bench`, {datetime.date.today().isoformat()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs shared with other builds, CPython {platform.python_version()}, "
        f"fusewire {fusewire.__version__} (abi3 release wheel), pybreaker {version('pybreaker')}, "
        f"circuitbreaker {version('circuitbreaker')}, tenacity {version('tenacity')}, "
        f"pyrate-limiter {version('pyrate-limiter')}.",
        f"Fastest of {REPEATS} rounds of {LOOPS:,} calls, every case once per round (round-robin, so "
        "the cases of a row ran under the same load); overhead = time per guarded call minus a bare call "
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
    clock_ns = timings[clock_key] - base
    load = os.getloadavg()[0]
    lines += [
        "",
        f"Load average at the run: {load:.1f} on {os.cpu_count()} CPUs; the machine is shared, so "
        "absolute figures move between runs: compare ratios within one run. One read of the "
        f"monotonic clock costs about {clock_ns:.0f} ns on this VM (`time.monotonic_ns()` minus a "
        "bare call); the breaker reads it once per successful call (twice when the slow-call rule "
        "or a time window needs the end time), the bucket once, retry never on the success path, "
        "the bulkhead twice (its slots are leased). Each policy call also takes and "
        "drops one uncontended `std::sync::Mutex` per core call (twice for the breaker and "
        "bulkhead). `with breaker:` also looks up its owner (`asyncio._get_running_loop()`, and the "
        "task inside a running loop).",
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

"""Memory stays flat over 200k create/use/drop cycles of what users do:
a client object whose breaker calls back its own method (a reference
cycle through native objects), a decoration, `with breaker:`, permits and
retry states. Python allocations are read with tracemalloc, the native
ones (Rust's windows, Vec, Box) with the process's resident size."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

from fusewire import Bulkhead, CircuitBreaker, Retrying, StateChange, TokenBucket

CYCLES = 200_000


class Client:
    """A service client as people write them: the breaker reports to the
    client, the client holds the breaker and a guarded bound method."""

    def __init__(self) -> None:
        self.changes: list[StateChange] = []
        self.breaker = CircuitBreaker(
            name="users", consecutive_failures=5, window_size=16, listeners=[self.on_change]
        )
        self.get = self.breaker(self._get)
        self.retrying = Retrying(max_attempts=2, retry_on=self.transient)
        self.bucket = TokenBucket(1000, clock=self.now)

    def on_change(self, change: StateChange) -> None:
        self.changes.append(change)

    def transient(self, exc: BaseException) -> bool:
        return isinstance(exc, OSError)

    def now(self) -> float:
        return 1.0

    def _get(self, key: int) -> int:
        return key


def one_cycle(i: int) -> None:
    client = Client()
    assert client.get(i) == i
    with client.breaker:
        pass
    permit = client.breaker.acquire()
    permit.success()
    client.retrying.state().next()
    client.bucket.try_acquire()
    bulkhead = Bulkhead(2)
    with bulkhead:
        pass


def rss_bytes() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE")


def test_memory_is_flat_over_200k_cycles() -> None:
    for i in range(20_000):  # warm up: caches, interned strings, arenas
        one_cycle(i)
    gc.collect()
    rss_before = rss_bytes()
    tracemalloc.start()
    try:
        for i in range(10_000):
            one_cycle(i)
        gc.collect()
        traced_before, _ = tracemalloc.get_traced_memory()
        for i in range(CYCLES):
            one_cycle(i)
        gc.collect()
        traced_after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_after = rss_bytes()
    # A leak of one 64-byte dict per cycle would be 12.8 MB; a leaked cycle
    # of these objects is several KB each.
    assert traced_after - traced_before < 256 * 1024, (traced_before, traced_after)
    assert rss_after - rss_before < 8 * 1024 * 1024, (rss_before, rss_after)

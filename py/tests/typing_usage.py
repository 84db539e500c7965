"""A user's file: `make test` checks it with `mypy --strict` and pyright in
strict mode (the checker behind VS Code's Pylance), so the public API keeps
its types in both (test_typing.py)."""
# pyright: strict

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import fusewire
from fusewire import (
    Backoff,
    Bulkhead,
    Chaos,
    CircuitBreaker,
    CircuitOpenError,
    HostStore,
    KeyedTokenBucket,
    Permit,
    Pool,
    PoolEvent,
    RetryBudget,
    Retrying,
    RetryState,
    State,
    StateChange,
    StoreError,
    TokenBucket,
    breakers,
    get_breaker,
    retry,
    stop_after_attempt,
    stop_after_delay,
    wait_chain,
    wait_exponential,
    wait_fixed,
    wait_random,
    wait_random_exponential,
)

breaker = CircuitBreaker(
    name="db", failure_rate=50.0, open_duration=Backoff.exponential(1.0, cap=60.0)
)


def on_change(change: StateChange) -> None:
    print(change.name, change.from_state, change.to_state, change.reason)


breaker.add_listener(on_change)


@breaker
def get_user(user_id: int, *, fresh: bool = False) -> str:
    return f"user {user_id} {fresh}"


@breaker
async def fetch_user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@retry(
    max_attempts=5, backoff=Backoff.exponential(0.1, jitter="full", cap=2.0), budget=RetryBudget()
)
def flaky(n: int) -> float:
    return n / 2


@retry
def plain() -> bytes:
    return b""


bucket = TokenBucket(100, 1.0, burst=10)
bulkhead = Bulkhead(8, reserve_critical=1)


@bucket
@bulkhead
def limited(x: str) -> str:
    return x


async def main() -> int:
    name: str = get_user(1, fresh=True)
    user: dict[str, int] = await fetch_user(2)
    half: float = flaky(3)
    raw: bytes = plain()
    text: str = limited("x")
    same: str = breaker.call(get_user, 3)
    async with breaker:
        pass
    with bulkhead.slot("critical"), bucket:
        pass
    await bucket.wait_async(timeout=1.0)
    policy = Retrying(max_attempts=2, retry_on=(OSError, lambda e: "transient" in str(e)))
    again: dict[str, int] = await policy.call_async(fetch_user, 4)
    state: State = breaker.state
    try:
        breaker.call(get_user, 5)
    except CircuitOpenError as e:
        wait: float = e.retry_after
        print(wait)
    print(name, user, half, raw, text, same, again, state)
    return len(name)


def streamed(chunks: list[bytes]) -> int:
    """The low-level API: a permit held across a streamed response."""
    permit: Permit = breaker.acquire()
    probe: bool = permit.probe
    try:
        size = sum(len(c) for c in chunks)
    except Exception:
        permit.failure()
        raise
    change: StateChange | None = permit.success(duration=0.25)
    with breaker.acquire() as p:
        p.ignore()
    moved: StateChange | None = breaker.poll() or breaker.half_open()
    snapshot_open_until: float = breaker.snapshot()["open_until"]
    retry_state: RetryState = Retrying(max_attempts=3).state(seed=1)
    retry_state.start()
    delay: float | None = retry_state.next(retry_after=0.5)
    reason: str | None = retry_state.reason
    budget = RetryBudget()
    budget.record_failure()
    allowed: bool = budget.try_retry()
    wait: float = TokenBucket(5).take(2)
    extra: int = Bulkhead(2).extra_releases
    print(probe, change, moved, snapshot_open_until, delay, reason, allowed, wait, extra)
    return size


@Retrying(max_attempts=2)
def decorated_by_policy(x: int) -> int:
    return x


@TokenBucket(10)
async def limited_async(x: int) -> int:
    return x


@Bulkhead(4)
async def isolated_async(x: int) -> int:
    return x


class Client:
    """Decorators on methods keep `self` and the signature."""

    guard = CircuitBreaker(name="client", consecutive_failures=3)

    @guard
    def get(self, path: str) -> bytes:
        return path.encode()

    @guard
    async def aget(self, path: str) -> bytes:
        return path.encode()


def sync_blocks() -> str:
    with breaker:
        pass
    with bulkhead:
        pass
    if breaker.state in (State.OPEN, State.HALF_OPEN):
        return "not closed"
    body: bytes = Client().get("/")
    n: int = decorated_by_policy(1)
    return f"{body!r} {n}"


async def async_blocks() -> int:
    body: bytes = await Client().aget("/")
    a: int = await limited_async(1)
    b: int = await isolated_async(2)
    async with bucket, bulkhead:
        pass
    return len(body) + a + b


def cached_user(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@breaker.with_fallback(cached_user)
def with_default(user_id: int) -> dict[str, int]:
    return {"id": user_id, "fresh": 1}


@breaker
def rows(n: int) -> Iterator[int]:
    yield from range(n)


def switching() -> int:
    total = sum(rows(3)) + with_default(1)["id"]
    for attempt in Retrying(max_attempts=3, before=print, after=lambda n, e: None):
        with attempt:
            total += attempt.number
    stop = stop_after_attempt(5) | stop_after_delay(10.0)
    policy = Retrying(
        stop=stop, retry_on_result=lambda v: v is None, give_up=lambda err: err.attempts
    )
    total += policy.call(lambda: 1)
    per_user = KeyedTokenBucket(10, 1.0, max_keys=1000)
    if per_user.try_acquire("alice"):
        per_user.acquire(("tenant", 7))
    named: dict[str, CircuitBreaker] = breakers()
    users: CircuitBreaker = get_breaker("db")
    waits = Retrying(
        wait=wait_chain(wait_fixed(1), wait_exponential(1, min=2, max=10) + wait_random(0, 1)),
        stop=stop_after_attempt(4),
    )
    total += waits.call(lambda: 1) + int(waits.statistics["attempt_number"])
    total += Retrying(wait=wait_random_exponential(multiplier=1, max=60)).max_attempts
    chaos = Chaos(fault_rate=5.0, latency_rate=10.0, latency_max=0.2)
    chaos.set_enabled(True)

    @chaos
    def flaky(x: int) -> int:
        return x

    with chaos:
        total += flaky(1)
    delay, outcome, _ = chaos.decide(3)
    total += int(delay) + len(outcome) + chaos.calls

    def on_event(e: PoolEvent) -> None:
        print(e.kind, e.endpoint, e.until)

    pool = Pool(["https://a", "https://b"], budget=RetryBudget(), listeners=[on_event])

    def get(url: str, path: str) -> str:
        return url + path

    body: str = pool.call(get, "/health")
    pick = pool.pick()
    pool.record(pick, "success")
    total += len(body) + int(pool.stats(pick.index)["calls"]) + len(pool.poll())
    # Many processes, one host: the policies of one name share one state.
    store = HostStore("typing-usage")
    shared_bucket = TokenBucket(100, 1.0, store=store, name="api")
    shared_breaker = CircuitBreaker(store=store, name="db", half_open_max_dwell=5.0)
    shared_bulkhead = Bulkhead(4, lease=30.0, store=store, name="pool")
    shared_budget = RetryBudget(10, 0.1, store=store, name="retries")
    try:
        shared_bucket.acquire()
    except StoreError as e:
        print(e.store, e.reason)
    total += store.entries + store.size + int(shared_breaker.state == "closed")
    total += shared_bulkhead.in_use + int(shared_budget.tokens)
    HostStore.unlink(store.name)
    return total + len(named) + len(users.name or "")


if __name__ == "__main__":
    asyncio.run(main())


async def fleet_calls(url: str) -> int:
    """RedisStore's async paths: the same policies, awaited over redis.asyncio."""
    fleet = fusewire.RedisStore(url, timeout=0.05, on_error="fail_open")
    fleet_breaker = fusewire.CircuitBreaker(store=fleet, name="payments", min_calls=20)
    fleet_bucket = fusewire.TokenBucket(100, 1.0, burst=20, store=fleet, name="api")
    fleet_bulkhead = fusewire.Bulkhead(10, store=fleet, name="db")

    @fleet_breaker
    async def charge(amount: int) -> int:
        return amount

    async with fleet_breaker, fleet_bucket, fleet_bulkhead:
        pass
    await fleet_bucket.wait_async(timeout=1.0)
    async with fleet_bulkhead.slot("critical") as slot:
        _: str = slot.priority
    paid: int = await fleet_breaker.call_async(charge, 3)
    total: int = await charge(2) + paid
    await fleet.aclose()
    return total

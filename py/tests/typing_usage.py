"""Checked with `mypy --strict` by `make lint`: the public API keeps types."""

from __future__ import annotations

import asyncio

from fusewire import (
    Backoff,
    Bulkhead,
    CircuitBreaker,
    CircuitOpenError,
    RetryBudget,
    Retrying,
    State,
    StateChange,
    TokenBucket,
    retry,
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


if __name__ == "__main__":
    asyncio.run(main())

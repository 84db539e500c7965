"""Module-level functions decorated as users decorate them, for the worker
processes of test_pickle.py (which import this module by name)."""

from __future__ import annotations

import asyncio

from fusewire import Bulkhead, CircuitBreaker, Retrying, TokenBucket, retry

breaker = CircuitBreaker(name="pickled", consecutive_failures=3)


@breaker
def double(x: int) -> int:
    return 2 * x


@breaker
async def double_async(x: int) -> int:
    return 2 * x


@retry(max_attempts=2)
def triple(x: int) -> int:
    return 3 * x


@Retrying(max_attempts=2)
def quadruple(x: int) -> int:
    return 4 * x


@TokenBucket(1000)
def limited(x: int) -> int:
    return x + 1


@Bulkhead(4)
def isolated(x: int) -> int:
    return x - 1


def run_async(x: int) -> int:
    return asyncio.run(double_async(x))


def breaker_state() -> str:
    return str(breaker.state)

"""fusewire: circuit breaker, retry, token bucket and bulkhead on one native core.

Every decision is made by the Rust core (``fusewire._native``); this package
adds what Python expects: decorators that keep signatures, sync and async
context managers, exceptions under one ``FusewireError``.

Time: durations are seconds (floats). The policies count integer
nanoseconds of the monotonic clock (the one ``time.monotonic_ns()`` reads),
read in Rust once per core call; pass ``clock=`` (a callable returning
seconds, like ``time.monotonic``) to drive one by hand in tests.

Many processes, one host: ``store = HostStore("myapp")`` names a shared-memory
region; ``CircuitBreaker(..., store=store, name="db")``, ``TokenBucket``,
``Bulkhead`` and ``RetryBudget`` with ``store=``/``name=`` share one state
with every process of the machine bound to the same name (gunicorn,
uvicorn, multiprocessing workers). A policy pickles with its store's name,
so a ``ProcessPoolExecutor`` child binds the same state.
"""

from ._breaker import CircuitBreaker, breakers, get_breaker
from ._chaos import Chaos
from ._errors import (
    BulkheadFull,
    ChaosFault,
    CircuitOpenError,
    ConfigError,
    FusewireError,
    RateLimited,
    ResultRejected,
    RetryError,
    StoreError,
)
from ._limits import Bulkhead, KeyedTokenBucket, TokenBucket
from ._native import (
    Backoff,
    HostStore,
    Permit,
    PoolPick,
    RetryBudget,
    RetryState,
    Slot,
    TickWidener,
    __version__,
)
from ._pool import Pool
from ._redis import RedisStore, RedisStoreError
from ._retry import Attempt, Retrying, Stop, retry, stop_after_attempt, stop_after_delay
from ._types import PoolEvent, State, StateChange
from ._wait import (
    Wait,
    wait_chain,
    wait_exponential,
    wait_fixed,
    wait_none,
    wait_random,
    wait_random_exponential,
)

__all__ = [
    "Attempt",
    "Backoff",
    "Bulkhead",
    "BulkheadFull",
    "Chaos",
    "ChaosFault",
    "CircuitBreaker",
    "CircuitOpenError",
    "ConfigError",
    "FusewireError",
    "HostStore",
    "KeyedTokenBucket",
    "Permit",
    "Pool",
    "PoolEvent",
    "PoolPick",
    "RateLimited",
    "RedisStore",
    "RedisStoreError",
    "ResultRejected",
    "RetryBudget",
    "RetryError",
    "RetryState",
    "Retrying",
    "Slot",
    "State",
    "StateChange",
    "Stop",
    "StoreError",
    "TickWidener",
    "TokenBucket",
    "Wait",
    "__version__",
    "breakers",
    "get_breaker",
    "retry",
    "stop_after_attempt",
    "stop_after_delay",
    "wait_chain",
    "wait_exponential",
    "wait_fixed",
    "wait_none",
    "wait_random",
    "wait_random_exponential",
]

# Stubs for the Rust extension `fusewire._native` (py/src). Checked by stubtest.
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, Literal, TypeAlias, TypeVar, final

from typing_extensions import ParamSpec, Self, disjoint_base

from fusewire._errors import RetryError
from fusewire._retry import Stop
from fusewire._store import Store
from fusewire._types import PoolEvent, StateChange
from fusewire._wait import Wait

__version__: str
__all__ = [
    "Backoff",
    "Breaker",
    "Bulkhead",
    "Chaos",
    "Guarded",
    "Permit",
    "Pool",
    "PoolPick",
    "RetryBudget",
    "RetryRun",
    "RetryState",
    "Retrying",
    "Slot",
    "TickWidener",
    "TokenBucket",
    "__version__",
    "monotonic_ns",
]

_Jitter: TypeAlias = Literal["none", "full", "equal", "decorrelated", "proportional"]
_ExceptionSpec: TypeAlias = (
    type[BaseException]
    | Callable[[BaseException], object]
    | Iterable[type[BaseException] | Callable[[BaseException], object]]
)
_Clock: TypeAlias = Callable[[], float]
_Priority: TypeAlias = Literal["critical", "normal", "sheddable"]
_P = ParamSpec("_P")
_R = TypeVar("_R")

def monotonic_ns() -> int: ...

@final
class TickWidener:
    def __new__(cls) -> TickWidener: ...
    def widen(self, raw: int) -> int: ...
    @property
    def last(self) -> int | None: ...

@final
class Backoff:
    @staticmethod
    def constant(
        delay: float,
        *,
        jitter: _Jitter = "none",
        jitter_percent: int | None = None,
        cap: float | None = None,
    ) -> Backoff: ...
    @staticmethod
    def linear(
        base: float,
        step: float,
        *,
        jitter: _Jitter = "none",
        jitter_percent: int | None = None,
        cap: float | None = None,
    ) -> Backoff: ...
    @staticmethod
    def exponential(
        base: float,
        factor: float = 2.0,
        *,
        jitter: _Jitter = "none",
        jitter_percent: int | None = None,
        cap: float | None = None,
    ) -> Backoff: ...
    def delays(self, n: int, *, seed: int = 0) -> list[float]: ...
    def raw(self, n: int) -> float: ...
    @property
    def cap(self) -> float: ...

@disjoint_base
class Breaker:
    def __new__(
        cls,
        *,
        name: str | None = None,
        failure_rate: float | None = 50.0,
        slow_call_rate: float | None = None,
        slow_call_duration: float | None = None,
        consecutive_failures: int | None = None,
        min_calls: int = 10,
        window_size: int = 100,
        window_duration: float | None = None,
        window_buckets: int = 10,
        comparison: Literal["at_least", "above"] = "at_least",
        rate_basis: Literal["outcomes", "all_calls", "started"] = "outcomes",
        manual: bool = False,
        half_open_probes: int = 1,
        half_open_rule: Literal["all_succeed", "rates"] = "all_succeed",
        half_open_max_dwell: float | None = None,
        dwell_expiry: Literal["reopen", "close"] = "reopen",
        open_duration: float | Backoff | None = None,
        reset_window_on_close: bool = True,
        exclude: _ExceptionSpec | None = None,
        exclude_as: Literal["ignored", "success"] = "ignored",
        listeners: Iterable[Callable[[Any], object]] = ...,
        seed: int = 0,
        clock: _Clock | None = None,
        store: Store | None = None,
    ) -> Self: ...
    def call(self, func: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...
    def acquire(self) -> Permit: ...
    def _start(self) -> int | tuple[int, int]: ...
    def _end(self, token: int | tuple[int, int], exc: BaseException | None) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None: ...
    def poll(self) -> StateChange | None: ...
    def add_listener(self, listener: Callable[[Any], object]) -> None: ...
    def remove_listener(self, listener: Callable[[Any], object]) -> None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def _state(self) -> str: ...
    def snapshot(self) -> dict[str, Any]: ...
    def trip(self) -> StateChange | None: ...
    def close(self) -> StateChange | None: ...
    def force_open(self) -> StateChange | None: ...
    def disable(self) -> StateChange | None: ...
    def half_open(self) -> StateChange | None: ...
    def reset(self) -> StateChange | None: ...

@final
class Permit:
    def success(self, duration: float | None = None) -> StateChange | None: ...
    def failure(self, duration: float | None = None) -> StateChange | None: ...
    def timeout(self, duration: float | None = None) -> StateChange | None: ...
    def ignore(self, duration: float | None = None) -> StateChange | None: ...
    def release(self) -> StateChange | None: ...
    def __enter__(self) -> Permit: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None: ...
    @property
    def probe(self) -> bool: ...
    @property
    def started(self) -> float: ...
    @property
    def used(self) -> bool: ...

@disjoint_base
class TokenBucket:
    def __new__(
        cls,
        rate: int,
        per: float = 1.0,
        *,
        burst: int | None = None,
        clock: _Clock | None = None,
        store: Store | None = None,
        name: str | None = None,
    ) -> Self: ...
    def try_acquire(self, n: int = 1) -> bool: ...
    def acquire(self, n: int = 1) -> None: ...
    def take(self, n: int = 1) -> float: ...
    def call(self, func: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...
    def refund(self, n: int = 1) -> None: ...
    def set_rate(self, rate: int, per: float = 1.0) -> None: ...
    @property
    def available(self) -> int: ...
    @property
    def burst(self) -> int: ...

@final
class Slot:
    @property
    def priority(self) -> _Priority: ...

@disjoint_base
class Bulkhead:
    def __new__(
        cls,
        max_concurrent: int,
        *,
        reserve_critical: int = 0,
        reserve_normal: int = 0,
        lease: float = 60.0,
        clock: _Clock | None = None,
        store: Store | None = None,
        name: str | None = None,
    ) -> Self: ...
    def try_acquire(self, priority: _Priority = "normal") -> Slot | None: ...
    def acquire(self, priority: _Priority = "normal") -> Slot: ...
    def release(self, slot: Slot) -> None: ...
    def call(self, func: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None: ...
    @property
    def in_use(self) -> int: ...
    @property
    def available(self) -> int: ...
    def available_for(self, priority: _Priority = "normal") -> int: ...
    @property
    def extra_releases(self) -> int: ...
    @property
    def expired_releases(self) -> int: ...
    @property
    def reclaimed(self) -> int: ...
    @property
    def lease(self) -> float: ...
    @property
    def max_concurrent(self) -> int: ...

@final
class RetryBudget:
    def __new__(
        cls,
        max_tokens: int = 10,
        token_ratio: float = 0.1,
        *,
        store: Store | None = None,
        name: str | None = None,
    ) -> RetryBudget: ...
    @property
    def tokens(self) -> float: ...
    @property
    def can_retry(self) -> bool: ...
    @property
    def throttled(self) -> int: ...
    def record_success(self) -> None: ...
    def record_failure(self) -> None: ...
    def try_retry(self) -> bool: ...

@disjoint_base
class Retrying:
    def __new__(
        cls,
        *,
        max_attempts: int = 3,
        max_elapsed: float | None = None,
        stop: Stop | None = None,
        backoff: Backoff | None = None,
        wait: Wait | Backoff | None = None,
        retry_on: _ExceptionSpec | None = None,
        budget: RetryBudget | None = None,
        reraise: bool = False,
        honor_retry_after: bool = True,
        seed: int | None = None,
        clock: _Clock | None = None,
        sleep: Callable[[float], object] | None = None,
        async_sleep: Callable[[float], Awaitable[object]] | None = None,
        before_sleep: Callable[[int, float, BaseException], object] | None = None,
        retry_on_result: Callable[[Any], object] | None = None,
        give_up: Callable[[RetryError], Any] | None = None,
        before: Callable[[int], object] | None = None,
        after: Callable[[int, BaseException], object] | None = None,
    ) -> Self: ...
    def call(self, func: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...
    def _begin(self) -> RetryRun: ...
    def state(self, *, seed: int | None = None) -> RetryState: ...
    @property
    def _hooks(
        self,
    ) -> (
        tuple[
            Callable[[Any], object] | None,
            Callable[[RetryError], Any] | None,
            Callable[[int], object] | None,
            Callable[[int, BaseException], object] | None,
        ]
        | None
    ): ...
    @property
    def _sleep(self) -> Callable[[float], object] | None: ...
    @property
    def _async_sleep(self) -> Callable[[float], Awaitable[object]] | None: ...
    @property
    def max_attempts(self) -> int: ...
    @property
    def statistics(self) -> dict[str, Any]: ...

@final
class RetryRun:
    def success(self) -> None: ...
    def failure(self, exc: BaseException, matched: bool = False) -> float | None: ...
    @property
    def attempts(self) -> int: ...

@final
class Guarded:
    def __new__(cls, policy: object, func: Callable[..., Any]) -> Guarded: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    def __get__(self, instance: object, owner: type | None = None, /) -> Any: ...
    @property
    def policy(self) -> object: ...
    @property
    def statistics(self) -> dict[str, Any]: ...

@final
class RetryState:
    def start(self) -> None: ...
    def next(self, retry_after: float | None = None) -> float | None: ...
    @property
    def attempts(self) -> int: ...
    @property
    def reason(self) -> Literal["max_attempts", "deadline", "wait_too_long", "budget"] | None: ...

@disjoint_base
class Chaos:
    def __new__(
        cls,
        *,
        fault_rate: float = 0.0,
        latency_rate: float = 0.0,
        latency_min: float = 0.0,
        latency_max: float = 0.0,
        substitute_rate: float = 0.0,
        behavior_rate: float = 0.0,
        fault: BaseException | type[BaseException] | Callable[[], BaseException] | None = None,
        substitute: Callable[..., Any] | None = None,
        behavior: Callable[[], object] | None = None,
        seed: int | None = None,
        enabled: bool = False,
        sleep: Callable[[float], object] | None = None,
        async_sleep: Callable[[float], Awaitable[object]] | None = None,
    ) -> Self: ...
    def inject(self) -> tuple[float, Literal["pass", "fault", "substitute"], bool]: ...
    def decide(self, index: int) -> tuple[float, Literal["pass", "fault", "substitute"], bool]: ...
    def set_enabled(self, on: bool) -> None: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def calls(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def _host(
        self,
    ) -> tuple[
        Any,
        Callable[..., Any] | None,
        Callable[[], object] | None,
        Callable[[float], object] | None,
        Callable[[float], Awaitable[object]] | None,
    ]: ...

@final
class PoolPick:
    @property
    def index(self) -> int: ...
    @property
    def panic(self) -> bool: ...
    @property
    def endpoint(self) -> Any: ...

@disjoint_base
class Pool:
    def __new__(
        cls,
        endpoints: Iterable[Any],
        *,
        consecutive_failures: int = 5,
        consecutive_gateway_failures: int = 5,
        interval: float = 10.0,
        base_ejection_time: float = 30.0,
        max_ejection_time: float = 300.0,
        ejection_jitter: float = 0.0,
        max_ejection_percent: int = 10,
        success_rate_minimum_hosts: int = 5,
        success_rate_request_volume: int = 100,
        success_rate_stdev_factor: float = 1.9,
        seed: int | None = None,
        budget: RetryBudget | None = None,
        listeners: Iterable[Callable[[PoolEvent], object]] = ...,
        clock: _Clock | None = None,
    ) -> Self: ...
    def __len__(self) -> int: ...
    @property
    def endpoints(self) -> list[Any]: ...
    @property
    def budget(self) -> RetryBudget | None: ...
    def pick(self, avoid: PoolPick | int | None = None) -> PoolPick: ...
    def failover(self, previous: PoolPick | int) -> PoolPick | None: ...
    def record(
        self, pick: PoolPick | int, result: Literal["success", "failure", "gateway_failure"]
    ) -> PoolEvent | None: ...
    def release(self, pick: PoolPick | int) -> None: ...
    def poll(self) -> list[PoolEvent]: ...
    def stats(self, index: int) -> dict[str, Any]: ...
    def add_listener(self, listener: Callable[[PoolEvent], object]) -> None: ...

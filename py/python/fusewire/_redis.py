"""``RedisStore``: one breaker, bucket, bulkhead or retry budget shared by a
fleet through Redis (the fleet tier, ``store/README.md`` "Fleet tier").

Each decision is one ``EVALSHA`` of a script in ``store/redis/`` that applies
the core's rules atomically on the Redis server, on the server's clock
(microsecond ticks). This module only translates: the config into the
fingerprint the scripts keep beside the state, nanoseconds into server ticks
and back, Redis errors into fusewire's, and an unreachable Redis into the
``on_error`` policy's answer.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import warnings
from collections.abc import AsyncGenerator
from typing import Any, Literal

from ._errors import ConfigError, FusewireError
from ._native import Backoff, redis_fingerprint, redis_scripts, rng_next

__all__ = ["RedisStore", "RedisStoreError"]

OnError = Literal["fail_open", "fail_closed", "local"]
_POLICIES = ("fail_open", "fail_closed", "local")
_U64_MAX = 2**64 - 1
_NS_PER_TICK = 1000


# a fingerprint field as the Python policies call it (the user's own words)
_OPTION = {
    "tokens": "rate",
    "period": "rate",
    "limit": "max_concurrent",
    "window": "window_duration",
    "failure_rate_ppm": "failure_rate",
    "slow_call_rate_ppm": "slow_call_rate",
    "open_backoff": "open_duration",
    "open_backoff_base": "open_duration",
    "open_backoff_step": "open_duration",
    "open_backoff_factor_milli": "open_duration",
    "open_backoff_cap": "open_duration",
    "open_backoff_jitter": "open_duration",
    "open_backoff_jitter_percent": "open_duration",
    "token_ratio_milli": "token_ratio",
}


class RedisStoreError(FusewireError):
    """Redis refused the store: a password it needs, a server it is not."""


class _Down(Exception):
    """Redis could not answer in time: the caller applies ``on_error``."""


def _ticks(ns: int) -> int:
    return -(-ns // _NS_PER_TICK)


def fingerprint(kind: str, config: dict[str, Any]) -> str:
    """The config as the scripts keep it: ``kind|v1|v2|...`` in the order of
    ``fusewire_store::config::fields``, durations in server ticks (µs,
    rounded up), a bucket's rate in lowest terms per tick, ``max`` for
    forever and ``off`` for a rule that is off. Computed once, in Rust
    (``fusewire_store::config::redis_fingerprint``), as Node's is."""
    return redis_fingerprint(kind, config)


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _moved(f: Any, t: Any, why: Any) -> tuple[str, str, str] | None:
    f = _s(f)
    return None if f == "" else (f, _s(t), _s(why))


class RedisStore:
    """State in Redis, for processes on many hosts.

    ``RedisStore(url_or_client, *, prefix="fusewire", timeout=0.05,
    on_error="fail_open", ttl=3600.0)``. ``url_or_client`` is a ``redis://``
    URL or a ``redis.Redis`` you built (its timeouts and retries are then
    yours: give it ``socket_timeout`` and ``retry=Retry(NoBackoff(), 0)``, or
    a timed-out decision may be retried and counted twice).
    ``timeout`` (seconds) bounds every decision when Redis is down or slow;
    then ``on_error`` answers: ``"fail_open"`` admits, ``"fail_closed"``
    refuses, ``"local"`` decides with an in-process policy of the same
    config (its transitions reach no listener). After a
    failure Redis is not asked again until fusewire's own exponential backoff
    (10 ms doubling to 5 s) has passed, so a dead Redis costs no time per
    call. ``ttl`` (seconds): a key no one
    used for that long expires (the policy starts afresh).

    Async code (``async with``, ``call_async``, async decorators,
    ``wait_async``, a budget in an async retry) awaits each round trip on a
    ``redis.asyncio`` client of the running event loop, one per loop, with
    the same ``timeout``, ``on_error`` and backoff. It is closed when the
    loop shuts down its async generators (``asyncio.run`` and every runner
    do), by ``await store.aclose()`` in that loop, or by ``store.close()``
    from another thread while the loop runs; a loop closed without
    ``shutdown_asyncgens()`` leaves its connection to the garbage collector,
    as it leaves its own async generators. A store built on your own
    ``redis.Redis`` answers async calls from a worker thread
    (``asyncio.to_thread``) with that client.
    """

    def __init__(
        self,
        url_or_client: Any,
        *,
        prefix: str = "fusewire",
        timeout: float = 0.05,
        on_error: OnError = "fail_open",
        ttl: float = 3600.0,
        lease: int | None = None,
        lease_time: float = 1.0,
    ) -> None:
        import redis

        if on_error not in _POLICIES:
            raise ConfigError("on_error", f"{on_error!r} is not one of {', '.join(_POLICIES)}")
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            raise ConfigError("timeout", f"{timeout!r} is not a positive number of seconds")
        if (
            isinstance(ttl, bool)
            or not isinstance(ttl, (int, float))
            or not math.isfinite(ttl)
            or ttl < 1
        ):
            raise ConfigError("ttl", f"{ttl!r} is not a number of seconds of at least 1")
        if lease is not None and (
            isinstance(lease, bool) or not isinstance(lease, int) or lease < 2
        ):
            raise ConfigError(
                "lease", f"{lease!r} is not a whole number of tokens of at least 2 (None: off)"
            )
        if (
            isinstance(lease_time, bool)
            or not isinstance(lease_time, (int, float))
            or not math.isfinite(lease_time)
            or lease_time <= 0
        ):
            raise ConfigError("lease_time", f"{lease_time!r} is not a positive number of seconds")
        if not isinstance(prefix, str) or not prefix:
            raise ConfigError("prefix", f"{prefix!r} is not a non-empty string")
        # what __reduce__ rebuilds the store from in another process
        self._options: tuple[tuple[str, Any], ...] = (
            ("prefix", prefix),
            ("timeout", timeout),
            ("on_error", on_error),
            ("ttl", ttl),
            ("lease", lease),
            ("lease_time", lease_time),
        )
        self.prefix = prefix
        self.timeout = float(timeout)
        self.on_error: OnError = on_error
        self.ttl_ms = int(ttl * 1000)
        self.lease = lease
        self.lease_time = float(lease_time)
        self._leased: list[_LeasedBucket] = []
        self.round_trips = 0
        """How many scripts this store ran on Redis (lease mode cuts them)."""
        self._url: str | None = None
        if isinstance(url_or_client, str):
            self._url = url_or_client
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            try:
                self._client = redis.Redis.from_url(
                    url_or_client,
                    socket_timeout=self.timeout,
                    socket_connect_timeout=self.timeout,
                    # no retry inside the client: a script that timed out
                    # may have run, and running it again would count twice
                    retry=Retry(NoBackoff(), 0),
                    retry_on_timeout=False,
                )
            except ValueError as e:
                raise ConfigError("url", f"{url_or_client!r} is not a Redis URL: {e}") from None
        elif isinstance(url_or_client, redis.Redis):
            self._client = url_or_client
            _check_client(url_or_client)
        else:
            raise ConfigError(
                "url", f"{type(url_or_client).__name__} is neither a redis:// URL nor a redis.Redis"
            )
        self._scripts = redis_scripts()
        self._sha: dict[str, str] = {}
        self._lock = threading.Lock()
        self._failures = 0
        self._down_until = 0.0
        self._reconnect = Backoff.exponential(0.01, 2.0, cap=5.0)
        self._aclients: dict[asyncio.AbstractEventLoop, tuple[Any, AsyncGenerator[None, None]]] = {}
        self.errors = 0
        """How many decisions ``on_error`` answered (Redis down, slow or refusing)."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickles by URL and options, so a policy bound to this store can be
        handed to a process pool: the other process connects on its own, and
        one store per URL and options serves every policy it unpickles. A
        store on a ``redis.Redis`` you passed has no URL to rebuild from:
        pickling it is a ``TypeError`` saying so."""
        if self._url is None:
            raise TypeError(
                "a RedisStore built on your own redis.Redis cannot be pickled (a "
                "connection cannot cross processes): build it from a URL, "
                "RedisStore('redis://...'), to hand its policies to another process"
            )
        return (_rebuilt_store, (self._url, self._options))

    def __repr__(self) -> str:
        return (
            f"RedisStore(prefix={self.prefix!r}, timeout={self.timeout}, "
            f"on_error={self.on_error!r}, lease={self.lease})"
        )

    # -- the one round trip -------------------------------------------------
    def _load(self) -> None:
        for kind, text in self._scripts.items():
            self._sha[kind] = self._client.script_load(text)

    def _eval(self, kind: str, key: str, fp: str, op: str, *args: Any) -> Any:
        import redis

        if time.monotonic() < self._down_until:
            self.errors += 1
            raise _Down
        try:
            try:
                if not self._sha:
                    self._load()
                self.round_trips += 1
                return self._client.evalsha(self._sha[kind], 1, key, fp, "", self.ttl_ms, op, *args)
            except redis.exceptions.NoScriptError:
                # a restarted Redis forgot the scripts; the call did not run
                self._load()
                return self._client.evalsha(self._sha[kind], 1, key, fp, "", self.ttl_ms, op, *args)
        except redis.exceptions.AuthenticationError as e:
            raise self._refused(key, e) from None
        except (redis.exceptions.ResponseError, redis.exceptions.InvalidResponse) as e:
            raise self._refused(key, e) from None
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
            self._failed()
            raise _Down from None

    async def _aeval(self, kind: str, key: str, fp: str, op: str, *args: Any) -> Any:
        """``_eval`` on this event loop's ``redis.asyncio`` client: the same
        one round trip, the same errors, the same ``on_error`` pacing."""
        import redis

        if time.monotonic() < self._down_until:
            self.errors += 1
            raise _Down
        if self._url is None:
            # a client you passed is a sync one: it answers from a worker
            # thread, so the event loop goes on meanwhile
            return await asyncio.to_thread(self._eval, kind, key, fp, op, *args)
        client = await self._aclient()
        try:
            try:
                if not self._sha:
                    await self._aload(client)
                self.round_trips += 1
                return await client.evalsha(self._sha[kind], 1, key, fp, "", self.ttl_ms, op, *args)
            except redis.exceptions.NoScriptError:
                await self._aload(client)
                return await client.evalsha(self._sha[kind], 1, key, fp, "", self.ttl_ms, op, *args)
        except redis.exceptions.AuthenticationError as e:
            raise self._refused(key, e) from None
        except (redis.exceptions.ResponseError, redis.exceptions.InvalidResponse) as e:
            raise self._refused(key, e) from None
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
            self._failed()
            raise _Down from None

    async def _aload(self, client: Any) -> None:
        for kind, text in self._scripts.items():
            self._sha[kind] = _s(await client.script_load(text))

    def _refused(self, key: str, e: Exception) -> Exception:
        """The typed error for a script Redis refused (not an outage)."""
        import redis

        text = str(e)
        if isinstance(e, redis.exceptions.AuthenticationError) or (
            "NOAUTH" in text or "WRONGPASS" in text
        ):
            return RedisStoreError(
                f"Redis needs a password (give it in the URL: redis://:PASSWORD@host): {text}"
            )
        if isinstance(e, redis.exceptions.InvalidResponse):
            # a wrong port: another service (HTTP, a proxy) answered
            return RedisStoreError(
                f"the server at {self._where()} did not answer as Redis (is the URL's port "
                f"a Redis one?): {text}"
            )
        if "DB index" in text or "invalid DB" in text:
            return RedisStoreError(f"Redis at {self._where()} has no such database: {text}")
        if text.startswith("FUSEWIRE_CONFIG"):
            _, field, had, given = [*text.split(" ", 3), "", "", ""][:4]
            return ConfigError(
                _OPTION.get(field, field),
                f"{key!r} is already in Redis with {field}={had}, this process has {given} "
                "(durations in microseconds, a rate as tokens per period): "
                "every process sharing a name needs the same config",
            )
        return RedisStoreError(f"Redis refused the script: {text}")

    def _where(self) -> str:
        """host:port/db of the client's connections (no password)."""
        kw = getattr(self._client.connection_pool, "connection_kwargs", {})
        if "path" in kw:
            return f"{kw['path']} (db {kw.get('db', 0)})"
        return f"{kw.get('host', '?')}:{kw.get('port', '?')}/{kw.get('db', 0)}"

    def _failed(self) -> None:
        """Redis did not answer: not asked again until the backoff passed."""
        with self._lock:
            self._failures += 1
            wait = self._reconnect.raw(min(self._failures - 1, 30))
            self._down_until = time.monotonic() + wait
        self.errors += 1

    # -- one redis.asyncio client per event loop ----------------------------
    async def _aclient(self) -> Any:
        loop = asyncio.get_running_loop()
        held = self._aclients.get(loop)
        if held is not None:
            return held[0]
        assert self._url is not None  # a client of yours runs in a thread instead
        import redis.asyncio
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        client = redis.asyncio.Redis.from_url(
            self._url,
            socket_timeout=self.timeout,
            socket_connect_timeout=self.timeout,
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
        )
        # An async generator started on the loop: the loop's
        # `shutdown_asyncgens()` (which `asyncio.run` and every runner call
        # before closing it) closes it, and it closes the client.
        closer = self._closer(loop, client)
        with self._lock:
            for old in [lp for lp in self._aclients if lp.is_closed()]:
                del self._aclients[old]  # closed without shutdown_asyncgens
            self._aclients[loop] = (client, closer)
        await closer.asend(None)
        return client

    async def _closer(
        self, loop: asyncio.AbstractEventLoop, client: Any
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            with self._lock:
                if self._aclients.get(loop, (None,))[0] is client:
                    del self._aclients[loop]
            await client.aclose()

    async def aclose(self) -> None:
        """``close()`` from a coroutine, awaiting every round trip: hands
        leased tokens back, closes the clients of loops running in other
        threads, then this loop's own."""
        for b in self._leased:
            await b.agive_back()
        for done in self._close_elsewhere():
            try:
                await asyncio.wait_for(asyncio.wrap_future(done), self.timeout * 4)
            except Exception:  # best effort: the loop closes it anyway
                pass
        held = self._aclients.get(asyncio.get_running_loop())
        if held is not None:
            await held[1].aclose()

    def _close_elsewhere(self) -> list[Any]:
        """Schedules the close of the clients of loops running in other
        threads; their futures."""
        with self._lock:
            held = list(self._aclients.items())
        try:
            here: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        return [
            asyncio.run_coroutine_threadsafe(closer.aclose(), loop)
            for loop, (_, closer) in held
            if loop is not here and not loop.is_closed() and loop.is_running()
        ]

    def _ok(self) -> None:
        if self._failures:
            with self._lock:
                self._failures = 0

    def close(self) -> None:
        """Hands the tokens held in lease mode back to Redis (call at shutdown;
        tokens not handed back are only lost to the fleet, never extra), and
        closes the ``redis.asyncio`` clients of event loops running in other
        threads (each loop's own closes with the loop, or ``await aclose()``)."""
        for b in self._leased:
            b.give_back()
        for done in self._close_elsewhere():
            try:
                done.result(self.timeout * 4)
            except Exception:  # best effort: the loop closes it anyway
                pass

    # -- the plumbing's protocol (fusewire/_store.py) -----------------------
    def _bind(self, kind: str, name: str, config: dict[str, Any]) -> object:
        fp = fingerprint(kind, config)
        key = f"{self.prefix}:{kind}:{name}"
        backend: _Backend
        if kind == "bucket" and self.lease is not None:
            backend = _LeasedBucket(self, key, fp, config)
            self._leased.append(backend)
        elif kind == "bucket":
            backend = _Bucket(self, key, fp, config)
        elif kind == "bulkhead":
            backend = _Bulkhead(self, key, fp, config)
        elif kind == "budget":
            backend = _Budget(self, key, fp, config)
        elif kind == "breaker":
            backend = _Breaker(self, key, fp, config)
        else:
            raise ConfigError("store", f"a RedisStore holds no {kind!r}")
        backend._check()  # a config collision is an error at construction
        return backend


def _check_client(client: Any) -> None:
    """Warns when a client you passed takes away a guarantee of the store:
    with no socket timeout a stalled Redis holds a decision until the OS
    gives up, and with retries a script that timed out may run twice."""
    kwargs = getattr(client.connection_pool, "connection_kwargs", {})
    lost = []
    if kwargs.get("socket_timeout") is None:
        lost.append(
            "it has no socket_timeout, so a stalled Redis holds a decision for as "
            "long as the client waits (give it socket_timeout=)"
        )
    retry = client.get_retry()
    retries = retry.get_retries() if retry is not None else 0
    if retries > 0:
        lost.append(
            f"it retries a failed command {retries} times, so a script that timed "
            "out may run again and count twice (give it retry=Retry(NoBackoff(), 0))"
        )
    if lost:
        warnings.warn(
            "fusewire: RedisStore on your own redis.Redis: "
            + "; ".join(lost)
            + ". A RedisStore built from a URL sets both.",
            UserWarning,
            stacklevel=3,
        )


# kept for the life of the process, as a connection pool is: a pool worker
# drops a task's policies when the task ends, and the next task's should find
# the connection open
_REBUILT: dict[tuple[str, tuple[tuple[str, Any], ...]], RedisStore] = {}
_REBUILT_LOCK = threading.Lock()


def _rebuilt_store(url: str, options: tuple[tuple[str, Any], ...]) -> RedisStore:
    """The unpickled ``RedisStore``: one per URL and options in a process
    (a pool worker unpickles its policies once per task; they share one
    connection pool instead of opening one each)."""
    with _REBUILT_LOCK:
        store = _REBUILT.get((url, options))
        if store is None:
            store = RedisStore(url, **dict(options))
            _REBUILT[(url, options)] = store
        return store


class _Backend:
    kind = ""
    is_async = True
    """It has ``a``-prefixed coroutine twins of its decision methods
    (``redis.asyncio``), which the policies' async paths await."""

    def __init__(self, store: RedisStore, key: str, fp: str) -> None:
        self.store, self.key, self.fp = store, key, fp

    def _call(self, op: str, *args: Any) -> Any:
        r = self.store._eval(self.kind, self.key, self.fp, op, *args)
        self.store._ok()
        return r

    async def _acall(self, op: str, *args: Any) -> Any:
        r = await self.store._aeval(self.kind, self.key, self.fp, op, *args)
        self.store._ok()
        return r

    def _check(self) -> None:
        try:
            self._call(self._probe_op)
        except _Down:
            pass  # checked on the first call Redis answers

    _probe_op = "state"

    @property
    def open(self) -> bool:
        return self.store.on_error != "fail_closed"


class _Bucket(_Backend):
    kind = "bucket"
    _probe_op = "available"

    def __init__(self, store: RedisStore, key: str, fp: str, config: dict[str, Any]) -> None:
        super().__init__(store, key, fp)
        self.burst = int(config["burst"])
        self.local: Any = None
        if store.on_error == "local":
            from ._limits import TokenBucket

            self.local = TokenBucket(
                int(config["tokens"]), int(config["period"]) / 1e9, burst=self.burst
            )

    def _over_burst(self, n: int) -> None:
        if n > self.burst:
            raise ValueError(f"{n} tokens is more than the bucket's burst of {self.burst}")

    def _down_take(self, n: int) -> int:
        if self.local is not None:
            return int(self.local.take(n) * 1e9)
        return 0 if self.open else max(int((self.store._down_until - time.monotonic()) * 1e9), 1)

    def take(self, n: int) -> int:
        self._over_burst(n)
        try:
            code, value, _ = self._call("take", n)
        except _Down:
            return self._down_take(n)
        return 0 if code == 0 else max(int(value) * _NS_PER_TICK, 1)

    async def atake(self, n: int) -> int:
        """``take`` without blocking the event loop."""
        self._over_burst(n)
        try:
            code, value, _ = await self._acall("take", n)
        except _Down:
            return self._down_take(n)
        return 0 if code == 0 else max(int(value) * _NS_PER_TICK, 1)

    def refund(self, n: int) -> None:
        try:
            self._call("refund", n)
        except _Down:
            if self.local is not None:
                self.local.refund(n)

    async def arefund(self, n: int) -> None:
        """``refund`` without blocking the event loop."""
        try:
            await self._acall("refund", n)
        except _Down:
            if self.local is not None:
                self.local.refund(n)

    def available(self) -> int:
        try:
            return int(self._call("available")[0])
        except _Down:
            if self.local is not None:
                return int(self.local.available)
            return self.burst if self.open else 0


class _LeasedBucket(_Bucket):
    """Lease mode (``RedisStore(url, lease=N)``): tokens come from Redis
    ``N`` at a time (``grab``: as many as the bucket has, up to ``N``) and
    are spent locally, so most decisions make no round trip. Tokens held
    longer than ``lease_time`` are handed back (``refund``) rather than
    spent, and so are the unused ones at ``close()``.

    What it allows: every token spent was taken from the shared bucket, so
    since the start the fleet never spends more than ``burst + rate x
    elapsed``. Over a shorter interval it can: tokens taken before the
    interval and spent in it come on top, at most ``lease`` per process
    (``processes x lease`` in all), and only within ``lease_time`` of their
    taking. A process that dies loses what it held (the fleet admits less,
    never more)."""

    def __init__(self, store: RedisStore, key: str, fp: str, config: dict[str, Any]) -> None:
        super().__init__(store, key, fp, config)
        self.held = 0
        self.taken_at = 0.0
        self.lock = threading.Lock()

    def give_back(self) -> None:
        with self.lock:
            held, self.held = self.held, 0
        if held:
            try:
                self._call("refund", held)
            except _Down:
                pass

    async def agive_back(self) -> None:
        """``give_back`` without blocking the event loop."""
        with self.lock:
            held, self.held = self.held, 0
        if held:
            try:
                await self._acall("refund", held)
            except _Down:
                pass

    def _spend(self, n: int) -> tuple[bool, int]:
        """Spends ``n`` held tokens if there are: ``(spent, stale)``, stale
        being the tokens held too long, to hand back."""
        with self.lock:
            if self.held and time.monotonic() - self.taken_at > self.store.lease_time:
                stale, self.held = self.held, 0
            else:
                stale = 0
            if self.held >= n:
                self.held -= n
                return (True, stale)
        return (False, stale)

    def _grabbed(self, n: int, got: Any, wait: Any) -> int:
        with self.lock:
            if int(got) > 0:
                if self.held == 0:
                    self.taken_at = time.monotonic()
                self.held += int(got)
            if self.held >= n:
                self.held -= n
                return 0
        return max(int(wait) * _NS_PER_TICK, 1)

    def take(self, n: int) -> int:
        self._over_burst(n)
        spent, stale = self._spend(n)
        if spent:
            return 0
        if stale:
            try:
                self._call("refund", stale)
            except _Down:
                pass
        assert self.store.lease is not None
        try:
            got, wait, _ = self._call("grab", max(self.store.lease, n))
        except _Down:
            return self._down_take(n)  # the on_error answer, as without a lease
        return self._grabbed(n, got, wait)

    async def atake(self, n: int) -> int:
        self._over_burst(n)
        spent, stale = self._spend(n)
        if spent:
            return 0
        if stale:
            try:
                await self._acall("refund", stale)
            except _Down:
                pass
        assert self.store.lease is not None
        try:
            got, wait, _ = await self._acall("grab", max(self.store.lease, n))
        except _Down:
            return self._down_take(n)
        return self._grabbed(n, got, wait)

    def available(self) -> int:
        with self.lock:
            held = self.held
        return min(super().available() + held, self.burst)


_PRIORITY = {"critical": 0, "normal": 1, "sheddable": 2}
_DEGRADED_SLOT = 2**51  # above Slot's 50 bits: never one Redis made


class _Bulkhead(_Backend):
    kind = "bulkhead"

    def __init__(self, store: RedisStore, key: str, fp: str, config: dict[str, Any]) -> None:
        super().__init__(store, key, fp)
        self.last: list[int] = [0, 0, 0, 0, 0, 0, 0, 0, 0]
        self.local: Any = None
        self.local_slots: dict[int, Any] = {}
        self.next = 0
        if store.on_error == "local":
            from ._limits import Bulkhead

            self.local = Bulkhead(
                int(config["limit"]),
                reserve_critical=int(config["reserve_critical"]),
                reserve_normal=int(config["reserve_normal"]),
                lease=int(config["lease"]) / 1e9,
            )

    def _state(self, op: str, *args: Any) -> list[int]:
        try:
            self.last = [int(x) for x in self._call(op, *args)]
        except _Down:
            return [-2, *self.last[1:]]
        return self.last

    async def _astate(self, op: str, *args: Any) -> list[int]:
        try:
            self.last = [int(x) for x in await self._acall(op, *args)]
        except _Down:
            return [-2, *self.last[1:]]
        return self.last

    def acquire(self, priority: str) -> int | None:
        return self._acquired(self._state("acquire", _PRIORITY[priority]), priority)

    async def aacquire(self, priority: str) -> int | None:
        """``acquire`` without blocking the event loop."""
        return self._acquired(await self._astate("acquire", _PRIORITY[priority]), priority)

    def _acquired(self, r: list[int], priority: str) -> int | None:
        if r[0] == -2:
            self.next += 1
            raw = _DEGRADED_SLOT + self.next * 4 + _PRIORITY[priority]
            if self.local is not None:
                held = self.local.try_acquire(priority)
                if held is None:
                    return None
                self.local_slots[raw] = held
                return raw
            return raw if self.open else None
        return None if r[0] < 0 else r[0]

    def _local_release(self, slot: int) -> None:
        # handed out while Redis was away: nothing to give back there
        held = self.local_slots.pop(slot, None)
        if held is not None:
            self.local.release(held)

    def release(self, slot: int) -> Literal["released", "expired", "not_held"]:
        if slot >= _DEGRADED_SLOT:
            self._local_release(slot)
            return "released"
        r = self._state("release", slot)
        return ("released", "not_held", "expired")[r[0]] if r[0] >= 0 else "released"

    async def arelease(self, slot: int) -> Literal["released", "expired", "not_held"]:
        """``release`` without blocking the event loop."""
        if slot >= _DEGRADED_SLOT:
            self._local_release(slot)
            return "released"
        r = await self._astate("release", slot)
        return ("released", "not_held", "expired")[r[0]] if r[0] >= 0 else "released"

    def in_use(self) -> int:
        return self._state("state")[1]

    async def ain_use(self) -> int:
        """``in_use`` without blocking the event loop."""
        return (await self._astate("state"))[1]

    def available(self) -> int:
        return self._state("state")[2]

    def available_for(self, priority: str) -> int:
        return self._state("state")[3 + _PRIORITY[priority]]

    def extra_releases(self) -> int:
        return self._state("state")[6]

    def expired_releases(self) -> int:
        return self._state("state")[7]

    def reclaimed(self) -> int:
        return self._state("state")[8]


class _Budget(_Backend):
    kind = "budget"
    _probe_op = "can_retry"

    def __init__(self, store: RedisStore, key: str, fp: str, config: dict[str, Any]) -> None:
        super().__init__(store, key, fp)
        self.last = (1, 0, 0)
        self.local: Any = None
        if store.on_error == "local":
            from ._native import RetryBudget

            self.local = RetryBudget(
                int(config["max_tokens"]), int(config["token_ratio_milli"]) / 1000
            )

    def _op(self, op: str) -> tuple[int, int, int]:
        try:
            ok, tokens, throttled = self._call(op)
        except _Down:
            return self._down(op)
        self.last = (int(ok), int(tokens), int(throttled))
        return self.last

    async def _aop(self, op: str) -> tuple[int, int, int]:
        try:
            ok, tokens, throttled = await self._acall(op)
        except _Down:
            return self._down(op)
        self.last = (int(ok), int(tokens), int(throttled))
        return self.last

    def _down(self, op: str) -> tuple[int, int, int]:
        if self.local is not None:
            b = self.local
            ok = None
            if op == "success":
                b.record_success()
            elif op == "failure":
                b.record_failure()
            elif op == "try_retry":
                ok = b.try_retry()
            elif op == "failure_retry":
                b.record_failure()
                ok = b.try_retry()
            good = ok if op in ("try_retry", "failure_retry") else b.can_retry
            return (1 if good else 0, int(b.tokens * 1000), b.throttled)
        return (1 if self.open else 0, self.last[1], self.last[2])

    def record_success(self) -> None:
        self._op("success")

    def record_failure(self) -> None:
        self._op("failure")

    def try_retry(self) -> bool:
        return self._op("try_retry")[0] == 1

    def failure_retry(self) -> bool:
        """``record_failure`` then ``try_retry`` in one round trip."""
        return self._op("failure_retry")[0] == 1

    async def arecord_success(self) -> None:
        """``record_success`` without blocking the event loop."""
        await self._aop("success")

    async def arecord_failure(self) -> None:
        """``record_failure`` without blocking the event loop."""
        await self._aop("failure")

    async def atry_retry(self) -> bool:
        """``try_retry`` without blocking the event loop."""
        return (await self._aop("try_retry"))[0] == 1

    async def afailure_retry(self) -> bool:
        """``record_failure`` then ``try_retry`` in one awaited round trip."""
        return (await self._aop("failure_retry"))[0] == 1

    def can_retry(self) -> bool:
        return self._op("can_retry")[0] == 1

    def tokens_milli(self) -> int:
        return self._op("can_retry")[1]

    def throttled(self) -> int:
        return self._op("can_retry")[2]


_TAG_MUL = 0x9E3779B97F4A7C15


def _name(state: Any) -> str:
    """A state's name (``State`` members are ``str`` enums)."""
    return str(getattr(state, "value", state))


def _seconds(ns: Any) -> float:
    return float("inf") if int(ns) == _U64_MAX else int(ns) / 1e9


def _local_breaker(config: dict[str, Any]) -> Any:
    """An in-process breaker of the same config (``on_error="local"``)."""
    from ._breaker import CircuitBreaker
    from ._native import Backoff

    c = config
    jitter = c["open_backoff_jitter"]
    percent = int(c["open_backoff_jitter_percent"]) or None
    cap = _seconds(c["open_backoff_cap"])
    base = _seconds(c["open_backoff_base"])
    if c["open_backoff"] == "constant":
        backoff = Backoff.constant(base, jitter=jitter, jitter_percent=percent, cap=cap)
    elif c["open_backoff"] == "linear":
        step = _seconds(c["open_backoff_step"])
        backoff = Backoff.linear(base, step, jitter=jitter, jitter_percent=percent, cap=cap)
    else:
        factor = int(c["open_backoff_factor_milli"]) / 1000
        backoff = Backoff.exponential(base, factor, jitter=jitter, jitter_percent=percent, cap=cap)
    rate = c["failure_rate_ppm"]
    slow = c["slow_call_rate_ppm"]
    dwell = int(c["half_open_max_dwell"])
    kwargs: dict[str, Any] = {
        "failure_rate": None if rate is None else int(rate) / 10_000,
        "slow_call_rate": None if slow is None else int(slow) / 10_000,
        "slow_call_duration": None if slow is None else _seconds(c["slow_call_duration"]),
        "consecutive_failures": c["consecutive_failures"],
        "min_calls": int(c["min_calls"]),
        "comparison": c["comparison"],
        "rate_basis": c["rate_basis"],
        "manual": bool(c["manual"]),
        "half_open_probes": int(c["half_open_probes"]),
        "half_open_rule": c["half_open_rule"],
        "half_open_max_dwell": None if dwell == 0 else _seconds(dwell),
        "dwell_expiry": c["dwell_expiry"],
        "open_duration": backoff,
        "reset_window_on_close": bool(c["reset_window_on_close"]),
        "seed": int(c["seed"]),
    }
    if c["window"] == "time":
        kwargs["window_duration"] = _seconds(c["window_duration"])
        kwargs["window_buckets"] = int(c["window_buckets"])
    else:
        kwargs["window_size"] = int(c["window_size"])
    return CircuitBreaker(**kwargs)


def _degraded_permit(ticket: int) -> int:
    """A permit handed out while Redis was away: a raw form whose check tag
    is wrong on purpose, so Redis would refuse it and the backend never sends
    it (``Permit::into_raw`` layout)."""
    body = ticket % (1 << 20) << 17
    tag = (((body + 0x5851F42D) * _TAG_MUL) % 2**64) >> 48
    return body | (tag ^ 1) << 37


class _Breaker(_Backend):
    kind = "breaker"

    def __init__(self, store: RedisStore, key: str, fp: str, config: dict[str, Any]) -> None:
        super().__init__(store, key, fp)
        self.degraded: set[int] = set()
        self.next = 0
        self.local: Any = _local_breaker(config) if store.on_error == "local" else None
        self.local_permits: dict[int, Any] = {}
        # the core's seeded generator (Rng, seeded with the config's seed):
        # its next draw goes with every call, and it advances when a call
        # opened the breaker, as the in-process breaker draws once per open
        self.rng = int(config["seed"])
        self.rng_lock = threading.Lock()

    def _draw(self) -> tuple[int, str]:
        state = self.rng
        x, _ = rng_next(state)
        return state, f"{x >> 32}:{x & 0xFFFFFFFF}"

    def _drew(self, op: str, r: Any, state: int) -> None:
        """Advances the generator when the call opened the breaker."""
        if op == "snapshot":
            return
        to = r[5] if op == "acquire" else r[1]
        if _s(to) == "open":
            with self.rng_lock:
                if self.rng == state:
                    self.rng = rng_next(state)[1]

    def _call(self, op: str, *args: Any) -> Any:
        state, draw = self._draw()
        r = super()._call(op, draw, *args)
        self._drew(op, r, state)
        return r

    async def _acall(self, op: str, *args: Any) -> Any:
        state, draw = self._draw()
        r = await super()._acall(op, draw, *args)
        self._drew(op, r, state)
        return r

    def _down_state(self) -> str:
        return "closed" if self.open else "open"

    def try_acquire(self) -> tuple[bool, int, str, tuple[str, str, str] | None]:
        try:
            answer = self._call("acquire")
        except _Down:
            return self._down_acquire()
        return self._admission(answer)

    async def atry_acquire(self) -> tuple[bool, int, str, tuple[str, str, str] | None]:
        """``try_acquire`` without blocking the event loop."""
        try:
            answer = await self._acall("acquire")
        except _Down:
            return self._down_acquire()
        return self._admission(answer)

    def _down_acquire(self) -> tuple[bool, int, str, tuple[str, str, str] | None]:
        if self.local is not None:
            return self._local_acquire()
        if not self.open:
            return (
                False,
                max(int((self.store._down_until - time.monotonic()) * 1e9), 1),
                "open",
                None,
            )
        self.next += 1
        raw = _degraded_permit(self.next)
        self.degraded.add(raw)
        return (True, raw, "closed", None)

    def _admission(self, answer: Any) -> tuple[bool, int, str, tuple[str, str, str] | None]:
        adm, value, state, _probe, f, t, why = answer
        moved = _moved(f, t, why)
        v = _s(value)
        if int(adm) == 1:
            return (True, int(v), _s(state), moved)
        wait = _U64_MAX if v == "max" else int(v) * _NS_PER_TICK
        return (False, min(wait, _U64_MAX), _s(state), moved)

    def _local_acquire(self) -> tuple[bool, int, str, tuple[str, str, str] | None]:
        from ._errors import CircuitOpenError

        try:
            held = self.local.acquire()
        except CircuitOpenError as e:
            return (False, max(int(e.retry_after * 1e9), 1), _name(e.state), None)
        self.next += 1
        raw = _degraded_permit(self.next) | (1 << 16 if held.probe else 0)
        self.degraded.add(raw)
        self.local_permits[raw] = held
        return (True, raw, _name(self.local.state), None)

    def _local_settle(self, op: str, permit: int, *args: Any) -> bool:
        """Settles a permit made while Redis was away (says whether it was)."""
        held = self.local_permits.pop(permit, None)
        if held is not None:
            # decided by the in-process breaker while Redis was away
            self.degraded.discard(permit)
            if op == "release":
                held.release()
            else:
                outcome, duration = args[0], args[1] * _NS_PER_TICK / 1e9
                method = {"success": "success", "failure": "failure", "timeout": "timeout"}
                getattr(held, method.get(outcome, "ignore"))(duration)
            return True
        if permit in self.degraded:
            self.degraded.discard(permit)
            return True
        return False

    def _settle(self, op: str, permit: int, *args: Any) -> tuple[str, str, str] | None:
        if self._local_settle(op, permit, *args):
            return None
        try:
            f, t, why, _ = self._call(op, str(permit), *args)
        except _Down:
            return None
        return _moved(f, t, why)

    async def _asettle(self, op: str, permit: int, *args: Any) -> tuple[str, str, str] | None:
        if self._local_settle(op, permit, *args):
            return None
        try:
            f, t, why, _ = await self._acall(op, str(permit), *args)
        except _Down:
            return None
        return _moved(f, t, why)

    def record(self, permit: int, outcome: str, duration: int) -> tuple[str, str, str] | None:
        return self._settle("record", permit, outcome, _ticks(duration), 1)

    async def arecord(
        self, permit: int, outcome: str, duration: int
    ) -> tuple[str, str, str] | None:
        """``record`` without blocking the event loop."""
        return await self._asettle("record", permit, outcome, _ticks(duration), 1)

    def release(self, permit: int) -> tuple[str, str, str] | None:
        return self._settle("release", permit)

    async def arelease(self, permit: int) -> tuple[str, str, str] | None:
        """``release`` without blocking the event loop."""
        return await self._asettle("release", permit)

    def state(self) -> tuple[str, tuple[str, str, str] | None]:
        try:
            f, t, why, state = self._call("state")
        except _Down:
            if self.local is not None:
                return (_name(self.local.state), None)
            return (self._down_state(), None)
        return (_s(state), _moved(f, t, why))

    def host(self, op: str) -> tuple[str, str, str] | None:
        try:
            f, t, why, _ = self._call(op)
        except _Down:
            raise RedisStoreError(
                f"Redis did not answer within {self.store.timeout} s: {op} not applied"
            ) from None
        return _moved(f, t, why)

    def snapshot(self) -> dict[str, Any]:
        try:
            flat = self._call("snapshot")
        except _Down:
            raise RedisStoreError(
                f"Redis did not answer within {self.store.timeout} s: no snapshot"
            ) from None
        s = {_s(flat[i]): _s(flat[i + 1]) for i in range(0, len(flat), 2)}
        d: dict[str, Any] = {"state": s["state"]}
        for k in (
            "generation",
            "successes",
            "failures",
            "timeouts",
            "slow",
            "ignored",
            "rejected",
            "admitted",
            "refused_permits",
            "permits_out",
            "consecutive_failures",
            "probes_in_flight",
        ):
            d[k] = int(s[k])
        now, until = int(s["now"]), int(s["open_until"])
        d["retry_after"] = max(until - now, 0) / 1e6 if s["state"] == "open" else 0.0
        d["open_until"] = until / 1e6 if s["state"] == "open" else 0.0
        d["since"] = int(s["since"]) / 1e6
        d["reopens"] = int(s["reopens"])
        d["clock_regressions"] = int(s["clock_regressions"])
        return d

"""The Python runner of the conformance vectors, against the installed
``fusewire`` package (py's test virtualenv), through its public API only.

Time goes in through ``clock=`` (seconds as a float; the door's tick is the
nanosecond), so a scenario runs only when its input ticks survive the trip
through a float exactly (below 2^52). The breaker runs on the low-level API
(``acquire()`` and one ``Permit`` per call, host moves, ``snapshot()``),
retry on ``Retrying.state()``, budget, bucket and bulkhead on their public
methods. Prints every scenario it cannot express and every result field the
public API does not show, and fails on a difference.
"""

import glob
import json
import os
import sys

import fusewire

SECOND = 1e9
EXACT = 1 << 52


def u64(v):
    return int(v) if v is not None else None


def fits(v):
    """Whether every integer in a config or step is small enough for floats."""
    if isinstance(v, dict):
        return all(fits(x) for x in v.values())
    if isinstance(v, list):
        return all(fits(x) for x in v)
    if isinstance(v, str) and v.isdigit():
        return int(v) < EXACT
    if isinstance(v, int) and not isinstance(v, bool):
        return v < EXACT
    return True


def inputs(sc):
    """A scenario without its expectations: results come back through
    ``ticks()``, which maps ``inf`` to the end of time."""
    return {"config": sc.get("config", {}), "steps": [{k: v for k, v in st.items() if k != "expect"} for st in sc["steps"]]}


class Clock:
    def __init__(self):
        self.ticks = 0
        self.widener = fusewire.TickWidener()

    def at(self, step):
        """The step's time: `now`, or its `tick32` through the scenario's widener."""
        if "tick32" in step:
            self.ticks = self.widener.widen(step["tick32"])
        else:
            self.ticks = u64(step.get("now", 0))
        return self.ticks

    def __call__(self):
        return self.ticks / SECOND


class Skip(Exception):
    pass


def backoff_of(c):
    jitter = c.get("jitter", "none")
    kw = {"jitter": jitter, "cap": u64(c["cap"]) / SECOND}
    if jitter == "proportional":
        kw["jitter_percent"] = c["percent"]
    s = c["schedule"]
    if s == "constant":
        return fusewire.Backoff.constant(u64(c["delay"]) / SECOND, **kw)
    if s == "linear":
        return fusewire.Backoff.linear(u64(c["base"]) / SECOND, u64(c["step"]) / SECOND, **kw)
    return fusewire.Backoff.exponential(u64(c["base"]) / SECOND, c["factor_milli"] / 1000, **kw)


def ticks(secs):
    """Seconds from the door back to ticks (``inf`` is the end of time)."""
    return (1 << 64) - 1 if secs == float("inf") else round(secs * SECOND)


def rate_of(v):
    return float("nan") if v == "nan" else v


def breaker_of(c, clock, listener):
    """A CircuitBreaker with the core's defaults where the vector is silent
    (the door's own defaults differ: a 30 s open duration, a 100-call window)."""
    kw = {"clock": clock, "listeners": [listener]}
    for k in ("failure_rate", "slow_call_rate"):
        if k in c:
            kw[k] = rate_of(c[k])
    for k in ("slow_call_duration", "half_open_max_dwell"):
        if k in c:
            kw[k] = u64(c[k]) / SECOND
    for k in ("consecutive_failures", "min_calls", "half_open_probes", "seed"):
        if k in c:
            kw[k] = u64(c[k])
    for k in ("comparison", "rate_basis", "half_open_rule", "dwell_expiry", "reset_window_on_close", "manual"):
        if k in c:
            kw[k] = c[k]
    kw["open_duration"] = backoff_of(c["open_backoff"]) if "open_backoff" in c else fusewire.Backoff.constant(1000 / SECOND)
    window = c.get("window", {"count": 16})
    if "count" in window:
        kw["window_size"] = u64(window["count"])
    else:
        kw["window_duration"] = u64(window["time"]["span"]) / SECOND
        kw["window_buckets"] = u64(window["time"]["buckets"])
    return fusewire.CircuitBreaker(**kw)


def change_of(c):
    return None if c is None else {"from": c.from_state.value, "to": c.to_state.value, "reason": c.reason}


OUTCOMES = {"success": "success", "failure": "failure", "timeout": "timeout", "ignored": "ignore"}
HOST = ("poll", "trip", "close", "force_open", "disable", "reset")


def run_breaker(sc):
    """Through the public low-level API: acquire() and a Permit per call,
    the host moves, snapshot(). Transitions come from a listener; the state
    is the last transition's (every state change is one), or the
    snapshot's own at a snapshot step."""
    for st in sc["steps"]:
        if "permit_raw" in st:
            raise Skip("permit_raw: a Permit is an object, never built from raw bits (forged permits cannot be expressed)")
    for st in sc["steps"]:
        if st["op"] == "record_untripped":
            raise Skip("record_untripped: opossum's warm-up, not part of the Python door")
    clock, seen = Clock(), []
    try:
        b = breaker_of(sc["config"], clock, seen.append)
    except (fusewire.ConfigError, ValueError):
        return "config_error"
    permits, out, state = {}, [], "closed"
    for st in sc["steps"]:
        clock.at(st)
        op, r, returned = st["op"], {}, None
        del seen[:]
        if op == "acquire":
            try:
                p = b.acquire()
            except fusewire.CircuitOpenError as e:
                r["admitted"] = False
                r["retry_after"] = ticks(e.retry_after)
            else:
                r["admitted"] = True
                r["probe"] = p.probe
                if "as" in st:
                    permits[st["as"]] = p
        elif op in ("record", "release"):
            p = permits[st["permit"]]
            try:
                if op == "record":
                    returned = getattr(p, OUTCOMES[st["outcome"]])(duration=u64(st.get("duration", 0)) / SECOND)
                else:
                    returned = p.release()
            except RuntimeError as e:
                # A second hand-back: the core refused and counted it (what
                # the vector expects), and the door raised besides.
                if "already used" not in str(e):
                    raise
        elif op in HOST:
            returned = getattr(b, op)()
        elif op == "snapshot":
            d = b.snapshot()
            r["generation"] = d["generation"]
            r["counts"] = {k: d[k] for k in ("successes", "failures", "timeouts", "slow", "ignored", "rejected", "admitted")}
            for k in ("refused_permits", "permits_out"):
                r[k] = d[k]
            for k in ("consecutive_failures", "probes_in_flight", "reopens", "clock_regressions"):
                r[k] = d[k]
            r["open_until"] = ticks(d["open_until"])
            r["since"] = ticks(d["since"])
        else:
            raise Skip("unknown breaker op %r" % op)
        if op != "snapshot":
            changes = [change_of(c) for c in seen]
            r["transition"] = changes[0] if len(changes) == 1 else (changes or None)
            if returned is not None and [returned] != seen:
                r["returned"] = change_of(returned)
        if seen:
            state = seen[-1].to_state.value
        r["state"] = d["state"] if op == "snapshot" else state
        out.append(r)
    return out


def run_retry(sc):
    c, clock = sc["config"], Clock()
    try:
        seed = u64(c.get("seed", 0))
        max_elapsed = c.get("max_elapsed")
        budget = None
        if c.get("budget") is not None:
            bc = c["budget"]
            budget = fusewire.RetryBudget(u64(bc["max_tokens"]), bc["token_ratio_milli"] / 1000)
        policy = fusewire.Retrying(
            max_attempts=u64(c["max_attempts"]),
            max_elapsed=None if max_elapsed is None else u64(max_elapsed) / SECOND,
            backoff=backoff_of(c["backoff"]),
            seed=seed,
            clock=clock,
            budget=budget,
        )
    except (fusewire.ConfigError, ValueError):
        return "config_error"
    state = policy.state(seed=seed)
    out = []
    for st in sc["steps"]:
        clock.at(st)
        if st["op"] == "start":
            state.start()
            r = {"attempts": state.attempts}
        elif st["op"] == "success":
            budget.record_success()
            r = {"attempts": state.attempts}
        else:
            hint = st.get("server_retry_after")
            delay = state.next(retry_after=None if hint is None else u64(hint) / SECOND)
            if delay is None:
                r = {"decision": "give_up", "reason": state.reason, "attempts": state.attempts}
            else:
                r = {"decision": "retry_after", "delay": ticks(delay), "attempts": state.attempts}
        if budget is not None:
            r["tokens_milli"] = round(budget.tokens * 1000)
            r["throttled"] = budget.throttled
        out.append(r)
    return out


def run_budget(sc):
    c = sc["config"]
    try:
        b = fusewire.RetryBudget(u64(c["max_tokens"]), u64(c["token_ratio_milli"]) / 1000)
    except (fusewire.ConfigError, ValueError):
        return "config_error"
    out = []
    for st in sc["steps"]:
        r = {}
        op = st["op"]
        if op == "success":
            b.record_success()
        elif op == "failure":
            b.record_failure()
        elif op == "try_retry":
            r["ok"] = b.try_retry()
        r["can_retry"] = b.can_retry
        r["tokens_milli"] = round(b.tokens * 1000)
        r["throttled"] = b.throttled
        out.append(r)
    return out


def run_backoff(sc):
    steps, c = sc["steps"], sc["config"]
    if all(st["op"] == "raw" for st in steps):
        try:
            b = backoff_of(c)
        except (fusewire.ConfigError, ValueError):
            return "config_error"
        return [{"value": ticks(b.raw(u64(st["n"])))} for st in steps]
    prev = 0
    for i, st in enumerate(steps):
        if st["op"] != "delay":
            raise Skip("raw(n) and delay(n) in one scenario: delays() starts its own generator")
        if st["n"] != i:
            raise Skip("delay(n) out of order: delays() walks attempts 0, 1, 2...")
        if c.get("jitter") == "decorrelated" and u64(st["prev"]) != prev:
            raise Skip("decorrelated prev other than the previous delay")
        prev = u64(st["expect"]["delay"])
    try:
        b = backoff_of(c)
    except (fusewire.ConfigError, ValueError):
        return "config_error"
    got = b.delays(len(steps), seed=u64(c.get("seed", 0)))
    return [{"delay": round(d * SECOND)} for d in got]


def run_bucket(sc):
    c, clock = sc["config"], Clock()
    try:
        b = fusewire.TokenBucket(u64(c["tokens"]), u64(c["period"]) / SECOND, burst=u64(c["burst"]), clock=clock)
    except (fusewire.ConfigError, ValueError):
        return "config_error"
    out = []
    for st in sc["steps"]:
        clock.at(st)
        r = {}
        op = st["op"]
        if op in ("acquire", "acquire_one"):
            n = u64(st.get("n", 1))
            try:
                wait = b.take(n)
            except ValueError:
                r["result"] = "exceeds_burst"
                r["burst"] = b.burst
            else:
                r["result"] = "granted" if wait == 0.0 else "denied"
                if wait:
                    r["retry_after"] = ticks(wait)
        elif op == "refund":
            b.refund(u64(st["n"]))
        elif op == "set_rate":
            try:
                b.set_rate(u64(st["tokens"]), u64(st["period"]) / SECOND)
            except (fusewire.ConfigError, ValueError):
                r["error"] = "raised"
        r["available"] = b.available
        out.append(r)
    return out


def run_bulkhead(sc):
    """Slots are `Slot` objects from acquire(); a release hands one back.
    A release after the lease ran out is no error in Python (the slot was
    already freed): it shows as `expired_releases` going up."""
    for st in sc["steps"]:
        if "slot_raw" in st:
            raise Skip("slot_raw: a Slot is an object, never built from raw bits (forged slots cannot be expressed)")
        if st["op"] == "expire":
            raise Skip("expire: the Python door frees expired slots inside acquire, with no call of its own")
    c, clock = sc["config"], Clock()
    try:
        b = fusewire.Bulkhead(
            u64(c["limit"]),
            reserve_critical=u64(c.get("reserve_critical", 0)),
            reserve_normal=u64(c.get("reserve_normal", 0)),
            lease=u64(c.get("lease", 60000)) / SECOND,
            clock=clock,
        )
    except (fusewire.ConfigError, ValueError):
        return "config_error"
    slots, out = {}, []
    for st in sc["steps"]:
        clock.at(st)
        r = {}
        if st["op"] == "acquire":
            slot = b.try_acquire(st["priority"])
            r["admitted"] = slot is not None
            if slot is not None and "as" in st:
                slots[st["as"]] = slot
        else:
            expired = b.expired_releases
            try:
                b.release(slots[st["slot"]])
            except ValueError:
                r["released"], r["refused"] = False, "not_held"
            else:
                if b.expired_releases > expired:
                    r["released"], r["refused"] = False, "expired"
                else:
                    r["released"] = True
        r["in_use"] = b.in_use
        r["available"] = b.available
        r["available_for"] = [b.available_for(p) for p in ("critical", "normal", "sheddable")]
        for k in ("extra_releases", "expired_releases", "reclaimed"):
            r[k] = getattr(b, k)
        out.append(r)
    return out


def run_chaos(sc):
    """`fusewire.Chaos` on its public methods; latency ticks go in as
    seconds and the delay comes back through ``ticks()``."""
    c = sc["config"]
    kw = {k: rate_of(c[k]) for k in ("fault_rate", "latency_rate", "substitute_rate", "behavior_rate") if k in c}
    for k in ("latency_min", "latency_max"):
        if k in c:
            kw[k] = u64(c[k]) / SECOND
    if kw.get("substitute_rate"):
        kw["substitute"] = lambda *a, **k: None
    if kw.get("behavior_rate"):
        kw["behavior"] = lambda: None
    try:
        chaos = fusewire.Chaos(seed=u64(c.get("seed", 0)), enabled=c.get("enabled", False), **kw)
    except (fusewire.ConfigError, ValueError):
        return "config_error"
    out = []
    for st in sc["steps"]:
        op = st["op"]
        r = {}
        if op == "set_enabled":
            chaos.set_enabled(st["on"])
        else:
            delay, outcome, behavior = chaos.inject() if op == "inject" else chaos.decide(u64(st["index"]))
            r = {"delay": ticks(delay), "outcome": outcome, "behavior": behavior}
        r["calls"] = chaos.calls
        out.append(r)
    return out


POOL_DURATIONS = ("interval", "base_ejection_time", "max_ejection_time", "ejection_jitter")
POOL_COUNTS = ("consecutive_failures", "consecutive_gateway_failures", "max_ejection_percent",
               "success_rate_minimum_hosts", "success_rate_request_volume", "seed")
POOL_DEFAULT_MS = {"interval": 10000, "base_ejection_time": 30000, "max_ejection_time": 300000}


def pool_event(e):
    if e is None:
        return None
    if e.kind == "returned":
        return {"returned": e.position}
    return {"ejected": e.position, "reason": e.reason, "until": ticks(e.until)}


def run_pool(sc):
    """`fusewire.Pool` on its low-level methods; the vectors' ticks are the
    door's nanoseconds (durations go in as seconds, the core defaults in
    milliseconds given as ticks so that both read the same numbers)."""
    c, clock = sc["config"], Clock()
    kw = {"clock": clock}
    for k in POOL_DURATIONS:
        kw[k] = u64(c.get(k, POOL_DEFAULT_MS.get(k, 0))) / SECOND
    for k in POOL_COUNTS:
        if k in c:
            kw[k] = u64(c[k])
    kw.setdefault("seed", 0)
    if "success_rate_stdev_factor_milli" in c:
        kw["success_rate_stdev_factor"] = c["success_rate_stdev_factor_milli"] / 1000
    try:
        pool = fusewire.Pool(list(range(u64(c["endpoints"]))), **kw)
    except (fusewire.ConfigError, ValueError):
        return "config_error"
    picks = {}
    out = []
    for st in sc["steps"]:
        clock.at(st)
        op = st["op"]
        if op == "pick":
            avoid = st.get("avoid")
            p = pool.pick(avoid)
            picks[st.get("as")] = p
            r = {"endpoint": p.index, "panic": p.panic}
        elif op == "record":
            target = picks[st["pick"]] if "pick" in st else u64(st["endpoint"])
            r = {"event": pool_event(pool.record(target, st["result"]))}
        elif op == "release":
            pool.release(picks[st["pick"]])
            r = {}
        elif op == "poll":
            r = {"events": [pool_event(e) for e in pool.poll()]}
        elif op == "stats":
            r = dict(pool.stats(u64(st["endpoint"])))
            r["ejected_until"] = ticks(r["ejected_until"])
        else:
            raise Skip("op %s" % op)
        out.append(r)
    return out


RUNNERS = {
    "backoff": run_backoff,
    "breaker": run_breaker,
    "bucket": run_bucket,
    "budget": run_budget,
    "bulkhead": run_bulkhead,
    "chaos": run_chaos,
    "pool": run_pool,
    "retry": run_retry,
}
NOT_EXPRESSIBLE = {}
# Result fields the public API does not show, so they are not compared.
UNCHECKED = {}


def project(want, component):
    """The expected result in the terms the runner can observe."""
    w = {k: v for k, v in want.items() if k not in UNCHECKED.get(component, ())}
    if "error" in w:
        w["error"] = "raised"
    for k, v in w.items():
        if isinstance(v, str) and v.isdigit():
            w[k] = int(v)
    return w


def main(paths):
    passed = failed = 0
    skipped = []
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        comp = doc["component"]
        for sc in doc["scenarios"]:
            label = "%s/%s" % (comp, sc["name"])
            if comp in NOT_EXPRESSIBLE:
                skipped.append((label, NOT_EXPRESSIBLE[comp]))
                continue
            if not fits(inputs(sc)):
                skipped.append((label, "ticks at or above 2^52 do not survive seconds as a float"))
                continue
            try:
                got = RUNNERS[comp](sc)
            except Skip as e:
                skipped.append((label, str(e)))
                continue
            if "config_error" in sc or got == "config_error":
                ok = ("config_error" in sc) == (got == "config_error")
                if not ok:
                    print("python: %s: config error expected %s, got %s" % (label, sc.get("config_error"), got), file=sys.stderr)
            else:
                ok = True
                for i, (st, g) in enumerate(zip(sc["steps"], got)):
                    want = project(st["expect"], comp)
                    if want != g:
                        print("python: %s: step %d %s\n  expected %s\n  got      %s" % (label, i, st["op"], want, g), file=sys.stderr)
                        ok = False
                        break
            passed += ok
            failed += not ok
    for label, why in skipped:
        print("python: skipped %s: %s" % (label, why))
    unchecked = "; ".join("%s %s" % (c, ", ".join(sorted(f))) for c, f in UNCHECKED.items()) or "none"
    print("python: %d scenarios passed, %d failed, %d skipped (listed above); unchecked fields: %s" % (passed, failed, len(skipped), unchecked))
    return 1 if failed else 0


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(here, "..", "vectors", "*.json")))
    sys.exit(main(files))

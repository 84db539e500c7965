"""The Python runner of the conformance vectors, against the installed
``fusewire`` package (py's test virtualenv), through its public API only.

Time goes in through ``clock=`` (seconds as a float; the door's tick is the
nanosecond), so a scenario runs only when its ticks survive the trip through
a float exactly (below 2^53). Prints every scenario it cannot express and
every result field the public API does not show, and fails on a difference.
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


class Clock:
    def __init__(self):
        self.ticks = 0

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


def run_backoff(sc):
    steps, c = sc["steps"], sc["config"]
    prev = 0
    for i, st in enumerate(steps):
        if st["op"] != "delay":
            raise Skip("raw(n): Backoff exposes only delays(n, seed)")
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
        clock.ticks = u64(st["now"])
        r = {}
        op = st["op"]
        if op in ("acquire", "acquire_one"):
            n = u64(st.get("n", 1))
            try:
                r["result"] = "granted" if b.try_acquire(n) else "denied"
            except ValueError:
                r["result"] = "exceeds_burst"
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
    c = sc["config"]
    try:
        b = fusewire.Bulkhead(
            u64(c["limit"]),
            reserve_critical=u64(c.get("reserve_critical", 0)),
            reserve_normal=u64(c.get("reserve_normal", 0)),
        )
    except (fusewire.ConfigError, ValueError):
        return "config_error"
    out = []
    for st in sc["steps"]:
        r = {}
        if st["op"] == "acquire":
            r["admitted"] = b.try_acquire(st["priority"])
        else:
            try:
                b.release(st["priority"])
                r["released"] = True
            except ValueError:
                r["released"] = False
        r["in_use"] = b.in_use
        r["available"] = b.available
        out.append(r)
    return out


RUNNERS = {"backoff": run_backoff, "bucket": run_bucket, "bulkhead": run_bulkhead}
NOT_EXPRESSIBLE = {
    "breaker": "no now-injected permit API: Breaker.call() couples acquire and record and measures durations itself (_acquire/_record are private)",
    "retry": "Retrying has no public next(now, server_retry_after)",
    "budget": "RetryBudget has no public record_success/record_failure/try_retry",
}
# Result fields the public API does not show, so they are not compared.
UNCHECKED = {
    "bucket": {"retry_after", "burst"},
    "bulkhead": {"available_for", "extra_releases"},
}


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
            if not fits(sc):
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
    unchecked = "; ".join("%s %s" % (c, ", ".join(sorted(f))) for c, f in UNCHECKED.items())
    print("python: %d scenarios passed, %d failed, %d skipped (listed above); unchecked fields: %s" % (passed, failed, len(skipped), unchecked))
    return 1 if failed else 0


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    files = sys.argv[1:] or sorted(glob.glob(os.path.join(here, "..", "vectors", "*.json")))
    sys.exit(main(files))

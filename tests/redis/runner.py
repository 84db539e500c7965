"""The conformance vectors (tests/vectors/*.json) against the Redis scripts
(store/redis/*.lua) on a real redis-server, with the clock overridden by each
step's ``now``: the scripts must give the core's answers, step by step.

Breaker configs come from the Rust runner (``fusewire-vectors
--store-configs``), so the scripts get the core's defaults, not a copy.
Prints every scenario it cannot express, with the reason, and fails on any
scenario it runs that differs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import redis
from fusewire._native import rng_next

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
from server import RedisServer  # noqa: E402

BIG = 2**53
U64_MAX = 2**64 - 1
COMPONENTS = ("breaker", "bucket", "bulkhead", "budget")
FIELDS = {
    "bucket": ["burst", "tokens", "period"],
    "bulkhead": ["limit", "reserve_critical", "reserve_normal", "lease"],
    "budget": ["max_tokens", "token_ratio_milli"],
}


class NotExpressible(Exception):
    pass


def script(kind: str) -> str:
    lua = ROOT / "store" / "redis"
    return (lua / "prelude.lua").read_text() + "\n" + (lua / f"{kind}.lua").read_text()


def n(v: Any) -> int:
    return int(v)


def check_numbers(v: Any, where: str) -> None:
    if isinstance(v, dict):
        for k, x in v.items():
            if k != "expect":
                check_numbers(x, where)
    elif isinstance(v, list):
        for x in v:
            check_numbers(x, where)
    elif isinstance(v, (int, str)) and not isinstance(v, bool):
        try:
            x = int(v)
        except ValueError:
            return
        if x >= BIG:
            raise NotExpressible(f"{where} holds {x} >= 2^53 (Lua numbers are doubles)")


def fingerprint(kind: str, values: list[Any]) -> str:
    out = [kind]
    for v in values:
        if v is None:
            out.append("off")
        elif isinstance(v, str) and not v.isdigit():
            out.append(v)
        else:
            x = int(v)
            if x == U64_MAX:
                out.append("max")
            elif x >= BIG:
                raise NotExpressible(f"config value {x} >= 2^53 (Lua numbers are doubles)")
            else:
                out.append(str(x))
    return "|".join(out)


def transition(f: bytes | str, t: bytes | str, r: bytes | str) -> Any:
    f, t, r = (x.decode() if isinstance(x, bytes) else x for x in (f, t, r))
    return None if f == "" else {"from": f, "to": t, "reason": r}


class Runner:
    def __init__(self, client: redis.Redis) -> None:
        self.r = client
        self.sha = {k: client.script_load(script(k)) for k in COMPONENTS}
        self.rng = 0
        self.breaker_configs: dict[str, dict[str, Any]] = json.loads(
            subprocess.run(
                ["cargo", "run", "-q", "-p", "fusewire-vectors", "--", "--store-configs"],
                cwd=ROOT, check=True, capture_output=True, text=True,
            ).stdout
        )

    def call(self, kind: str, key: str, fp: str, now: int, op: str, *args: Any) -> Any:
        if kind != "breaker":
            return self.r.evalsha(self.sha[kind], 1, key, fp, str(now), "600000", op, *args)
        # as the Python door does: the next draw of the core's generator
        # (seeded with the config's seed), advanced when the call opened
        x, after = rng_next(self.rng)
        r = self.r.evalsha(self.sha[kind], 1, key, fp, str(now), "600000", op,
                           f"{x >> 32}:{x & 0xFFFFFFFF}", *args)
        if op != "snapshot" and (r[5] if op == "acquire" else r[1]) == b"open":
            self.rng = after
        return r

    def scenario(self, component: str, stem: str, sc: dict[str, Any]) -> list[Any]:
        if "config_error" in sc:
            raise NotExpressible("a config error: the door validates before any store sees the config")
        if component != "breaker":  # a breaker's config is checked in its plain form
            check_numbers(sc.get("config", {}), "the config")
        for st in sc["steps"]:
            if "tick32" in st:
                raise NotExpressible("raw 32-bit ticks: a store keeps its own clock (the server's), no firmware tick reaches it")
            if st["op"] == "set_rate":
                raise NotExpressible("set_rate: a shared rate cannot change (the contract: TokenBucket.setRate refuses with a store)")
            check_numbers(st, f"step {st['op']}")
        cfg = sc.get("config", {})
        if component == "breaker":
            plain = self.breaker_configs[f"{stem}/{sc['name']}"]
            self.rng = int(plain["seed"])
            fp = fingerprint("breaker", list(plain.values()))
        else:
            defaults = {"reserve_critical": 0, "reserve_normal": 0, "lease": 60000}
            vals = [cfg.get(f, defaults.get(f)) for f in FIELDS[component]]
            if component == "bucket":
                from math import gcd

                g = gcd(int(vals[1]), int(vals[2])) or 1
                vals = [vals[0], int(vals[1]) // g, int(vals[2]) // g]
                if int(vals[0]) * int(vals[2]) * 4 >= BIG:
                    raise NotExpressible("burst x period >= 2^51: the bucket's debt would pass 2^53 (Lua doubles)")
            fp = fingerprint(component, vals)
        key = f"fw:test:{stem}:{sc['name']}"
        self.r.delete(key)
        return getattr(self, component)(key, fp, sc["steps"])

    def bucket(self, key: str, fp: str, steps: list[Any]) -> list[Any]:
        out = []
        for st in steps:
            now, op = n(st["now"]), st["op"]
            r: dict[str, Any] = {}
            if op in ("acquire", "acquire_one"):
                code, value, avail = self.call("bucket", key, fp, now, "take", st.get("n", 1))
                if code == 0:
                    r["result"] = "granted"
                elif code == 1:
                    r["result"] = "denied"
                    r["retry_after"] = value
                else:
                    r["result"] = "exceeds_burst"
                    r["burst"] = value
            elif op == "refund":
                (avail,) = self.call("bucket", key, fp, now, "refund", st["n"])
            else:
                (avail,) = self.call("bucket", key, fp, now, "available")
            r["available"] = avail
            out.append(r)
        return out

    def budget(self, key: str, fp: str, steps: list[Any]) -> list[Any]:
        out = []
        for st in steps:
            ok, tokens, throttled = self.call("budget", key, fp, 0, st["op"])
            r: dict[str, Any] = {}
            if st["op"] == "try_retry":
                r["ok"] = ok == 1
            if st["op"] == "try_retry":
                _, tokens, throttled = self.call("budget", key, fp, 0, "can_retry")
                ok = 1 if tokens * 2 > int(fp.split("|")[1]) * 1000 else 0
            r["can_retry"] = ok == 1
            r["tokens_milli"] = tokens
            r["throttled"] = throttled
            out.append(r)
        return out

    def bulkhead(self, key: str, fp: str, steps: list[Any]) -> list[Any]:
        slots: dict[str, int] = {}
        prio = {"critical": 0, "normal": 1, "sheddable": 2}
        out = []
        for st in steps:
            now, op = n(st.get("now", 0)), st["op"]
            r: dict[str, Any] = {}
            if op == "acquire":
                res = self.call("bulkhead", key, fp, now, "acquire", prio[st["priority"]])
                r["admitted"] = res[0] >= 0
                if res[0] >= 0 and "as" in st:
                    slots[st["as"]] = res[0]
            elif op == "release":
                raw = slots[st["slot"]] if "slot" in st else n(st["slot_raw"])
                res = self.call("bulkhead", key, fp, now, "release", raw)
                r["released"] = res[0] == 0
                if res[0] != 0:
                    r["refused"] = "not_held" if res[0] == 1 else "expired"
            else:
                res = self.call("bulkhead", key, fp, now, "expire")
                r["freed"] = res[0]
            r.update(in_use=res[1], available=res[2], available_for=res[3:6],
                     extra_releases=res[6], expired_releases=res[7], reclaimed=res[8])
            out.append(r)
        return out

    def breaker(self, key: str, fp: str, steps: list[Any]) -> list[Any]:
        permits: dict[str, str] = {}
        out = []
        for st in steps:
            now, op = n(st["now"]), st["op"]
            r: dict[str, Any] = {}
            if op == "acquire":
                adm, value, state, probe, f, t, why = self.call("breaker", key, fp, now, "acquire")
                r["admitted"] = adm == 1
                if adm == 1:
                    r["probe"] = probe == 1
                    if "as" in st:
                        permits[st["as"]] = value.decode()
                else:
                    v = value.decode()
                    r["retry_after"] = U64_MAX if v == "max" else int(v)
                r["transition"] = transition(f, t, why)
            elif op in ("record", "record_untripped", "release"):
                raw = permits[st["permit"]] if "permit" in st else str(n(st["permit_raw"]))
                if op == "release":
                    f, t, why, state = self.call("breaker", key, fp, now, "release", raw)
                else:
                    may = "1" if op == "record" else "0"
                    f, t, why, state = self.call("breaker", key, fp, now, "record", raw,
                                                 st["outcome"], n(st.get("duration", 0)), may)
                r["transition"] = transition(f, t, why)
            elif op == "snapshot":
                flat = self.call("breaker", key, fp, now, "snapshot")
                s = {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
                r["generation"] = int(s["generation"])
                r["counts"] = {k: int(s[k]) for k in ("successes", "failures", "timeouts", "slow",
                                                      "ignored", "rejected", "admitted")}
                for k in ("refused_permits", "permits_out", "consecutive_failures",
                          "probes_in_flight", "open_until", "reopens", "clock_regressions", "since"):
                    r[k] = int(s[k])
                state = s["state"].encode()
            else:
                f, t, why, state = self.call("breaker", key, fp, now, op)
                r["transition"] = transition(f, t, why)
            r["state"] = state.decode()
            out.append(r)
        return out


def normal(v: Any) -> Any:
    """Numbers above 2^53 are strings in the vectors: compare as ints. A wait
    of 2^53 ticks or more is "forever" on both sides: the core computes
    u64::MAX - now (saturating), the script answers "max" (documented in
    store/README.md)."""
    if isinstance(v, dict):
        return {k: ("forever" if k == "retry_after" and int(x) >= BIG else normal(x)) for k, x in v.items()}
    if isinstance(v, list):
        return [normal(x) for x in v]
    if isinstance(v, str) and v.isdigit():
        return int(v)
    return v


def main() -> int:
    files = sorted((ROOT / "tests" / "vectors").glob("*.json"))
    passed, failed, skipped = 0, 0, []
    with RedisServer() as server:
        runner = Runner(redis.Redis.from_url(server.url))
        for path in files:
            doc = json.loads(path.read_text())
            component = doc["component"]
            if component not in COMPONENTS:
                skipped.append((path.stem, "*", f"component {component}: not a shared policy (no store holds it)"))
                continue
            for sc in doc["scenarios"]:
                try:
                    got = runner.scenario(component, path.stem, sc)
                except NotExpressible as e:
                    skipped.append((path.stem, sc["name"], str(e)))
                    continue
                bad = None if len(got) == len(sc["steps"]) else f"{len(got)} results for {len(sc['steps'])} steps"
                for i, (st, g) in enumerate(zip(sc["steps"], got)):
                    if bad:
                        break
                    if normal(st["expect"]) != normal(g):
                        bad = f"step {i} {st['op']}\n  expected {st['expect']}\n  got      {g}"
                        break
                if bad:
                    failed += 1
                    print(f"FAIL {path.stem}/{sc['name']}: {bad}")
                else:
                    passed += 1
    print("redis: NOT_EXPRESSIBLE")
    for stem, name, why in skipped:
        print(f"  {stem}/{name}: {why}")
    print(f"redis: {passed} passed, {failed} failed, {len(skipped)} not expressible")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""fusewire.Chaos: the core's seeded injection, applied around calls."""

from __future__ import annotations

import asyncio
import pickle

import pytest
from fusewire import Chaos, ChaosFault, ConfigError


def test_off_by_default_and_switchable_at_run_time() -> None:
    chaos = Chaos(fault_rate=100, seed=1)
    wrapped = chaos(lambda: "ran")
    assert wrapped() == "ran"
    assert chaos.calls == 0  # off: nothing decided, nothing counted
    chaos.set_enabled(True)
    with pytest.raises(ChaosFault):
        wrapped()
    assert chaos.calls == 1
    chaos.set_enabled(False)
    assert wrapped() == "ran"


def test_decisions_replay_from_the_seed() -> None:
    kw = {"fault_rate": 20, "latency_rate": 50, "latency_min": 0.01, "latency_max": 0.5,
          "substitute_rate": 30, "behavior_rate": 10, "substitute": lambda: 0,
          "behavior": lambda: None, "enabled": True}  # fmt: skip
    a, b = Chaos(seed=7, **kw), Chaos(seed=7, **kw)
    first = [a.inject() for _ in range(50)]
    assert first == [b.inject() for _ in range(50)]
    assert first[3] == a.decide(3)
    outcomes = {o for _, o, _ in first}
    assert outcomes == {"pass", "fault", "substitute"}
    assert all(0.01 <= d <= 0.5 for d, _, _ in first if d)
    # the default seed is drawn from os.urandom, and shown for replays
    assert Chaos().seed != Chaos().seed
    assert Chaos(seed=Chaos(seed=99).seed).seed == 99


def test_fault_latency_behavior_and_substitute_are_applied() -> None:
    slept: list[float] = []
    ran: list[str] = []
    chaos = Chaos(
        latency_rate=100,
        latency_min=0.2,
        latency_max=0.2,
        behavior_rate=100,
        behavior=lambda: ran.append("behavior"),
        substitute_rate=100,
        substitute=lambda x: f"canned {x}",
        sleep=slept.append,
        enabled=True,
        seed=1,
    )

    @chaos
    def get(x: int) -> str:
        ran.append("call")
        return f"real {x}"

    assert get(5) == "canned 5"
    assert slept == [0.2]
    assert ran == ["behavior"]  # the call itself never ran

    class Boom(Exception):
        pass

    for fault in (Boom("x"), Boom, lambda: Boom("made")):
        with pytest.raises(Boom):
            Chaos(fault_rate=100, fault=fault, enabled=True).call(lambda: 1)


def test_async_decorator_and_context_managers() -> None:
    naps: list[float] = []

    async def nap(s: float) -> None:
        naps.append(s)

    chaos = Chaos(latency_rate=100, latency_max=0.1, latency_min=0.1, async_sleep=nap,
                  sleep=naps.append, enabled=True, seed=3)  # fmt: skip

    @chaos
    async def get() -> int:
        return 1

    assert asyncio.run(get()) == 1

    async def block() -> int:
        async with chaos:
            return 2

    assert asyncio.run(block()) == 2
    with chaos:
        pass
    assert naps == [0.1, 0.1, 0.1]

    faulty = Chaos(fault_rate=100, enabled=True)
    with pytest.raises(ChaosFault), faulty:
        pytest.fail("the block must not run")
    sub = Chaos(substitute_rate=100, substitute=lambda: 0, enabled=True)
    with pytest.raises(TypeError, match="no result to substitute"), sub:
        pass


def test_bad_config_names_the_keyword() -> None:
    for kw, field in [
        ({"fault_rate": 100.5}, "fault_rate"),
        ({"latency_rate": float("nan")}, "latency_rate"),
        ({"latency_rate": 10}, "latency_max"),
        ({"latency_min": 0.2, "latency_max": 0.1}, "latency_max"),
        ({"latency_min": -1.0}, "latency_min"),
        ({"substitute_rate": 5}, "substitute"),
        ({"behavior_rate": 5}, "behavior"),
        ({"seed": -1}, "seed"),
    ]:
        with pytest.raises(ConfigError) as info:
            Chaos(**kw)  # type: ignore[arg-type]
        assert info.value.field == field, kw
    with pytest.raises(TypeError, match="generator"):

        @Chaos()
        def gen() -> object:
            yield 1


def test_pickles_by_config() -> None:
    chaos = Chaos(fault_rate=50, seed=5, enabled=True)
    back = pickle.loads(pickle.dumps(chaos))
    assert back.seed == 5 and back.enabled and back.calls == 0
    assert [back.decide(i) for i in range(20)] == [chaos.decide(i) for i in range(20)]

"""The suite runs against the installed package, never the source tree."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import fusewire
import pytest

SITE = Path(sysconfig.get_paths()["purelib"]).resolve()
INSTALLED = Path(fusewire.__file__).resolve()
assert SITE in INSTALLED.parents, f"fusewire imported from {INSTALLED}, not {SITE}"


class FakeClock:
    """A clock for `clock=`: seconds that move only when told."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()

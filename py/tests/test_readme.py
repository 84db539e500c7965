"""Every ```python block of py/README.md runs as written (each in a fresh
namespace, as a reader would paste it)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"^( *)```python\n(.*?)^\1```", re.S | re.M)


def blocks() -> list[tuple[int, str]]:
    text = README.read_text()
    return [
        (text.count("\n", 0, m.start()) + 1, textwrap.dedent(m.group(2)))
        for m in BLOCK.finditer(text)
    ]


def test_the_readme_has_examples() -> None:
    assert len(blocks()) >= 5


@pytest.mark.parametrize(("line", "code"), blocks(), ids=[f"line{n}" for n, _ in blocks()])
def test_readme_block_runs(line: int, code: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(code, f"{README}:{line}", "exec"), {"__name__": f"readme_{line}"})
    assert capsys.readouterr().out  # every example shows what it did

"""A user's file type-checks in both checkers people run: mypy --strict and
pyright (VS Code's Pylance), against the installed package and its stubs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
USER_FILE = HERE / "typing_usage.py"
PYRIGHT = HERE.parent / "node_modules" / ".bin" / "pyright"
PYPROJECT = HERE.parent / "pyproject.toml"


def run(*cmd: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd], cwd=HERE, capture_output=True, text=True, timeout=300
    )


def test_user_file_passes_mypy_strict() -> None:
    r = run(sys.executable, "-m", "mypy", "--strict", "--config-file", PYPROJECT, USER_FILE)
    assert r.returncode == 0, r.stdout + r.stderr


def test_user_file_passes_pyright_strict() -> None:
    assert PYRIGHT.is_file(), "pyright is installed by `make -C py test` (npm ci in py/)"
    r = run(PYRIGHT, "--pythonpath", sys.executable, USER_FILE)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 errors" in r.stdout

from __future__ import annotations

import pickle
import re
from pathlib import Path

import fusewire
import pytest
from fusewire import (
    BulkheadFull,
    CircuitOpenError,
    ConfigError,
    FusewireError,
    RateLimited,
    RetryError,
)


@pytest.mark.parametrize(
    "exc",
    [
        CircuitOpenError("db", 1.5, "open"),
        RateLimited(0.25),
        BulkheadFull("normal", 3),
        RetryError(3, "deadline"),
        ConfigError("failure_rate", "is out of range"),
    ],
)
def test_errors_share_a_base_and_pickle(exc: FusewireError) -> None:
    assert isinstance(exc, FusewireError)
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc)
    assert str(back) == str(exc)


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


def test_everything_exported_exists() -> None:
    for name in fusewire.__all__:
        assert hasattr(fusewire, name), name


def test_typed_package_ships_stubs_and_marker() -> None:
    pkg = Path(fusewire.__file__).parent
    assert (pkg / "py.typed").is_file()
    assert (pkg / "_native.pyi").is_file()


def test_one_version_everywhere() -> None:
    cargo = Path(__file__).resolve().parents[2] / "Cargo.toml"
    if not cargo.is_file():  # pragma: no cover - run outside the repository
        pytest.skip("no workspace Cargo.toml")
    m = re.search(r'\[workspace\.package\][^\[]*?version = "([^"]+)"', cargo.read_text())
    assert m is not None
    assert fusewire.__version__ == m.group(1)
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    assert f'version = "{m.group(1)}"' in pyproject.read_text()

"""PEP 517 backend for fusewire's sdist: maturin, minus the toolchain download.

A platform with no wheel builds from the sdist, which needs Rust. maturin's
backend, finding no `cargo`, would download a whole Rust toolchain through
puccinialin (hundreds of MB, and an 84-line traceback offline). This wrapper
stops first with one message that says what is missing and what to do.
Where cargo is on PATH (or CARGO points at one) it is exactly maturin.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

# Set before maturin is imported: its get_requires_* hooks read it to decide
# whether to ask pip for puccinialin.
os.environ.setdefault("MATURIN_NO_INSTALL_RUST", "1")

import maturin  # type: ignore[import-untyped]

_MESSAGE = """
fusewire: building from source needs Rust (cargo) 1.83 or newer, and none was found on PATH.

No prebuilt wheel matches this platform; wheels exist for CPython >= 3.10 (abi3) on
Linux x86_64 and aarch64, glibc >= 2.17 (manylinux_2_17) and musl >= 1.2 (musllinux_1_2).
Either install Rust (https://rustup.rs, or your distribution's cargo package) and run
pip again, or install on a platform with a wheel. Nothing was downloaded.
"""


def _need_cargo() -> None:
    cargo = os.environ.get("CARGO") or "cargo"
    if shutil.which(cargo) is None:
        raise SystemExit(_MESSAGE)


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    return list(maturin.get_requires_for_build_wheel(config_settings))


def get_requires_for_build_sdist(config_settings: dict[str, Any] | None = None) -> list[str]:
    return list(maturin.get_requires_for_build_sdist(config_settings))


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    _need_cargo()
    return str(maturin.build_wheel(wheel_directory, config_settings, metadata_directory))


def build_editable(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    _need_cargo()
    return str(maturin.build_editable(wheel_directory, config_settings, metadata_directory))


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    return str(maturin.build_sdist(sdist_directory, config_settings))


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: dict[str, Any] | None = None
) -> str:
    _need_cargo()
    return str(maturin.prepare_metadata_for_build_wheel(metadata_directory, config_settings))

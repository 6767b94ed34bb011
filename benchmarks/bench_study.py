"""A 1,000-job design-day shoebox study on a local S3 server (moto): create, run, collect, with times and
request counts per step; then collect of 20 and of 1,000 results against the sequential loop users write
today: `SimulationResult.from_directory(fs=...)` + the End Uses table, once with epcloud and once with
idfkit 1.1.1 (in its own venv, benchmarks/.venv-idfkit). Target: epcloud collect ≥ 10× the idfkit loop.

Run by hand (takes minutes: 1,000 EnergyPlus runs on the usable CPUs):
    .venv/bin/python benchmarks/bench_study.py [--jobs 1000] [--small 20] [--no-idfkit]
With ``--vs-engine`` it instead compares the study path with the raw engine two at a time on 40 jobs
(wall ratio of `study.run()` and of two `epcloud worker` processes, CPU per job outside the engine,
requests per job): see bench_study_engine.py.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from bench_simulate import ensure_idfkit  # noqa: E402

from epcloud import Study  # noqa: E402
from epcloud.batch import SimulationJob  # noqa: E402
from epcloud.batch.runner import usable_cpus  # noqa: E402
from epcloud.model import Shoebox  # noqa: E402
from epcloud.results.simulation_result import SimulationResult  # noqa: E402
from epcloud.storage import S3FileSystem  # noqa: E402
from fixtures_s3 import MotoServer, new_client  # noqa: E402

OPTIONS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
END_USES = {"report_name": "AnnualBuildingUtilityPerformanceSummary", "table_name": "End Uses"}

_IDFKIT_LOOP = """
import json, sys, time
from idfkit.simulation import S3FileSystem, SimulationResult
endpoint, bucket, prefix, *folders = sys.argv[1:]
fs = S3FileSystem(bucket, prefix=prefix, endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
counts = {"n": 0}
fs._client.meta.events.register("before-send.s3", lambda **kw: counts.__setitem__("n", counts["n"] + 1))
start = time.perf_counter()
rows = []
for folder in folders:
    result = SimulationResult.from_directory(folder, fs=fs)
    cells = result.sql.get_tabular_data(report_name="AnnualBuildingUtilityPerformanceSummary",
                                        table_name="End Uses")
    rows.append(len(cells))
print(json.dumps({"seconds": time.perf_counter() - start, "requests": counts["n"], "rows": len(rows)}))
"""


@contextmanager
def counted(fs: S3FileSystem) -> Iterator[Counter[str]]:
    """Requests ``fs`` sends inside the block, by operation."""
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def on_send(event_name: str, **_: object) -> None:
        with lock:
            counts[event_name.rsplit(".", 1)[-1]] += 1

    fs.client.meta.events.register("before-send.s3", on_send)
    try:
        yield counts
    finally:
        fs.client.meta.events.unregister("before-send.s3", on_send)


def timed(fs: S3FileSystem, step: Callable[[], Any]) -> dict[str, Any]:
    with counted(fs) as counts:
        start = time.perf_counter()
        step()
        seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 3), "requests": sum(counts.values())}


def make_study(fs: S3FileSystem, count: int) -> tuple[Study, dict[str, Any]]:
    params = [
        {"wall_r": 1.0 + (i % 40) * 0.125, "window_to_wall": 0.1 + (i // 40 % 25) * 0.03}
        for i in range(count)
    ]
    jobs = [
        SimulationJob(Shoebox(**p).to_idf(), None, label=f"j{i}", design_day=True)
        for i, p in enumerate(params)
    ]
    made: dict[str, Study] = {}
    row = timed(fs, lambda: made.setdefault("study", Study.create(fs, jobs, parameters=params)))
    return made["study"], row


def _committed_folders(study: Study) -> list[str]:
    """The attempt folder each job's done-marker commits."""
    from epcloud.study.attempt import committed_dir

    found = [committed_dir(study.fs, entry) for entry in study.entries()]
    return [folder for folder in found if folder is not None]


def epcloud_loop(study: Study) -> dict[str, Any]:
    """The sequential loop with epcloud's own from_directory (downloads each SQL, as idfkit does)."""
    folders = _committed_folders(study)  # where each done-marker points; read before the clock starts

    def loop() -> None:
        for folder in folders:
            with SimulationResult.from_directory(folder, fs=study.fs) as result:
                result.sql.get_tabular_data(**END_USES)

    return timed(study.fs, loop)  # type: ignore[arg-type]


def idfkit_loop(python: Path, server: str, study: Study) -> dict[str, Any] | None:
    fs = study.fs
    assert isinstance(fs, S3FileSystem)
    folders = _committed_folders(study)
    run = subprocess.run(
        [str(python), "-c", _IDFKIT_LOOP, server, fs.bucket, fs.prefix + "/", *folders],
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        print(json.dumps({"idfkit_error": run.stderr.strip().splitlines()[-1:]}), file=sys.stderr)
        return None
    data = json.loads(run.stdout.strip().splitlines()[-1])
    return {"seconds": round(data["seconds"], 3), "requests": data["requests"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--small", type=int, default=20)
    parser.add_argument("--no-idfkit", action="store_true")
    parser.add_argument("--vs-engine", action="store_true", help="the study path against the raw engine")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved repeats, with --vs-engine")
    args = parser.parse_args()
    if args.vs_engine:
        from bench_study_engine import run

        print(json.dumps(run(40 if args.jobs == 1000 else args.jobs, args.repeat)), flush=True)
        return
    python = None if args.no_idfkit else ensure_idfkit()
    import pandas  # noqa: F401  (imports stay outside the timings, as in the idfkit runner)
    import pyarrow.parquet  # noqa: F401

    os.environ.setdefault("EPCLOUD_CACHE_DIR", tempfile.mkdtemp(prefix="bench-study-cache-"))
    server = MotoServer()
    try:
        new_client(server.endpoint).create_bucket(Bucket="bench-study")
        report: dict[str, Any] = {"cpus": usable_cpus()}
        studies = {}
        for count in sorted({args.small, args.jobs}):
            fs = S3FileSystem(
                "bench-study", prefix=f"study-{count}/", endpoint_url=server.endpoint, **OPTIONS
            )
            study, create = make_study(fs, count)
            run = timed(fs, lambda s=study: s.run())
            collect = timed(fs, lambda s=study: s.collect(full=True))
            again = timed(fs, lambda s=study: s.collect())
            row = {
                "create": create,
                "run": run,
                "collect": collect,
                "collect_again": again,
                "loop_epcloud": epcloud_loop(study),
            }
            if python is not None:
                row["loop_idfkit"] = idfkit_loop(python, server.endpoint, study)
                if row["loop_idfkit"]:
                    row["collect_speedup_vs_idfkit"] = round(
                        row["loop_idfkit"]["seconds"] / collect["seconds"], 1
                    )
            report[f"jobs_{count}"] = row
            studies[count] = study
            print(json.dumps({f"jobs_{count}": row}), flush=True)
        print(json.dumps(report), flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()

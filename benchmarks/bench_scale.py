"""The bookkeeping at scale: create, status and collect of a big study whose results are synthetic.

Run by hand:  .venv/bin/python benchmarks/bench_scale.py [--jobs 100000] [--s3-jobs 10000] [--no-s3]

No engine runs: a helper writes what a worker leaves for each finished job (``summary.json`` and the
``run-status.json`` done-marker in its result folder, the done-index key holding the summary, and one
digest per shard as `write_digests` does), with the shape of a real summary (the End Uses table, site
and source energy, facility meters; no series). Each step runs in its own subprocess, so its peak memory
(max RSS) is its own. After a full collect and an incremental one with nothing new, 1% of the jobs
get a new summary (as after a rerun) and collect runs once more. Targets on a local store, 100,000
jobs: create < 60 s, status < 10 s, collect < 60 s, peak < 2 GB; on a local S3 server (moto), 10,000
jobs: collect < 30 s.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

S3_OPTIONS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
END_USES = ["Heating", "Cooling", "Interior Lighting", "Exterior Lighting", "Interior Equipment", "Fans"]
FUELS = ["Electricity [GJ]", "Natural Gas [GJ]", "District Cooling [GJ]", "Water [m3]"]


def open_store(url: str) -> Any:
    from epcloud.storage import open_fs

    if not url.startswith("s3://"):
        return open_fs(url)
    return open_fs(url, endpoint_url=os.environ["BENCH_S3_ENDPOINT"], **S3_OPTIONS)


def synthetic_summary(entry: Any) -> dict[str, Any]:
    """A summary shaped like `summarize`'s for an annual run of a small office."""
    from epcloud.study.summary import SUMMARY_FORMAT

    base = 1.0 + entry.index % 97
    values = {
        f"end_use/{use}/{fuel}": base * (i + 1) * (j + 1)
        for i, use in enumerate(END_USES)
        for j, fuel in enumerate(FUELS)
    }
    for row in ("Total Site Energy", "Net Site Energy", "Total Source Energy"):
        values[f"site_source/{row}/Total Energy [GJ]"] = base * 10
    for meter in ("Electricity", "NaturalGas", "Water"):
        values[f"meter/{meter}:Facility [J]"] = base * 1e9
    return {
        "format": SUMMARY_FORMAT,
        "id": entry.id,
        "index": entry.index,
        "status": "succeeded" if entry.index % 50 else "failed",
        "runtime_seconds": 1.0 + entry.index % 7,
        "exit_code": 0 if entry.index % 50 else 1,
        "timed_out": False,
        "warnings": entry.index % 5,
        "severe": 0 if entry.index % 50 else 1,
        "fatal": None if entry.index % 50 else "synthetic failure",
        "error": None,
        "energyplus_version": "25.2.0",
        "finished_at": "2026-12-01T00:00:00+00:00",
        "values": values,
        "series": [],
        "missing_variables": [],
    }


def write_results(url: str, every: int = 1, rerun: bool = False) -> dict[str, Any]:
    """Land a synthetic finished result for every ``every``-th job of the study at ``url``, as a worker
    would; ``rerun`` gives those jobs a new summary (a job run again after a rerun)."""
    from epcloud import Study
    from epcloud.rundir.run_status import STATUS_FILENAME, RunStatus
    from epcloud.study import layout
    from epcloud.study.summary import encode_summary, summary_token

    fs = open_store(url)
    study = Study.open(fs)
    entries = study.entries()[::every]
    digests: dict[int, dict[str, Any]] = {}
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())

    def land(entry: Any) -> None:
        summary = synthetic_summary(entry)
        if rerun:
            summary["runtime_seconds"] += 0.5
            summary["finished_at"] = stamp  # a new summary each rerun
        data = encode_summary(summary)
        token = summary_token(data)
        ok = summary["status"] == "succeeded"
        status = RunStatus(
            success=ok,
            exit_code=summary["exit_code"],
            runtime_seconds=summary["runtime_seconds"],
            energyplus_version="25.2.0",
            epcloud_version="bench",
            model_sha256=entry.model_sha256,
            weather_sha256=entry.weather_sha256,
            outputs={"eplusout.sql.gz": 200_000, "eplusout.err": 2_000, layout.SUMMARY_FILE: len(data)},
        )
        fs.write_bytes(f"{entry.result_dir}/{layout.SUMMARY_FILE}", data)
        fs.write_text(f"{entry.result_dir}/{STATUS_FILENAME}", status.to_json())
        fs.write_bytes(layout.done_path(entry.shard, entry.id, summary["status"], token), data)
        digests.setdefault(entry.shard, {})[entry.id] = {"token": token, "summary": summary}

    start = time.perf_counter()
    with cf.ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(land, entries))
        documents = [
            (
                layout.digest_path(shard, "rerun" if rerun else "first"),
                {"format": 1, "shard": shard, "jobs": jobs},
            )
            for shard, jobs in digests.items()
        ]
        for path, document in documents:
            pool.submit(fs.write_bytes, path, json.dumps(document, separators=(",", ":")).encode())
    return {
        "written": len(entries),
        "digests": len(documents),
        "seconds": round(time.perf_counter() - start, 2),
    }


def step_create(url: str, jobs: int) -> dict[str, Any]:
    from epcloud import Study
    from epcloud.batch import SimulationJob
    from epcloud.engine import default_energyplus

    models = Path(os.environ.get("EPCLOUD_SHARED_DIR", HERE.parent.parent / "shared")) / "models"
    model = models / "RefBldgSmallOfficeNew2004_Chicago.idf"
    weather = default_energyplus().weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    built = time.perf_counter()
    job_list = [
        SimulationJob(model=str(model), weather=str(weather), annual=True, label=f"case {i}")
        for i in range(jobs)
    ]
    parameters = [{"wall_u": 0.2 + (i % 10) / 10, "orientation": (i * 15) % 360} for i in range(jobs)]
    start = time.perf_counter()
    study = Study.create(open_store(url), job_list, parameters=parameters, overwrite=True)
    return {
        "build_jobs_s": round(start - built, 2),
        "seconds": round(time.perf_counter() - start, 2),
        "shards": study.info.shard_count,
    }


def _requests(fs: Any) -> Any:
    """Counts of the HTTP requests an S3 store sends inside the block, by operation (every client the
    store builds; nothing for a local store)."""
    if getattr(fs, "client", None) is None:
        return contextlib.nullcontext(Counter())
    from fixtures_s3 import count_requests

    return count_requests(fs)


def step_status(url: str) -> dict[str, Any]:
    from epcloud import Study

    fs = open_store(url)
    start = time.perf_counter()
    with _requests(fs) as requests:
        status = Study.open(fs).status()
    return {"seconds": round(time.perf_counter() - start, 2), **status.to_dict(), "requests": dict(requests)}


def step_collect(url: str, full: bool) -> dict[str, Any]:
    import pandas  # noqa: F401  (imports outside the timing)
    import pyarrow.parquet  # noqa: F401

    from epcloud import Study

    fs = open_store(url)
    start = time.perf_counter()
    with _requests(fs) as requests:
        tables = Study.open(fs).collect(full=full)
    return {
        "seconds": round(time.perf_counter() - start, 2),
        "rows": len(tables.jobs),
        "columns": len(tables.jobs.columns),
        "read": tables.read,
        "requests": dict(requests),
    }


STEPS = {
    "create": lambda a: step_create(a.url, a.jobs),
    "results": lambda a: write_results(a.url),
    "status": lambda a: step_status(a.url),
    "collect": lambda a: step_collect(a.url, full=True),
    "collect_again": lambda a: step_collect(a.url, full=False),
    # Every 97th job: about 1% of the jobs, spread over (nearly) every shard, as failed jobs are.
    "rerun_1pct": lambda a: write_results(a.url, every=97, rerun=True),
    "collect_changed": lambda a: step_collect(a.url, full=False),
}


def run_step(step: str, url: str, jobs: int, env: dict[str, str]) -> dict[str, Any]:
    """One step in its own process: its figures, wall time and peak memory (max RSS of that process)."""
    cmd = [sys.executable, __file__, "--step", step, "--url", url, "--jobs", str(jobs)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"step {step} failed ({proc.returncode}): {out}")
    row = json.loads(out.strip().splitlines()[-1])
    row["process_s"] = round(time.perf_counter() - start, 2)
    row["peak_mb"] = round(usage.ru_maxrss / 1024)  # kilobytes on Linux
    row["cpu_s"] = round(usage.ru_utime + usage.ru_stime, 2)
    row["load"] = round(
        os.getloadavg()[0], 1
    )  # 1-minute load average as the step ends: how shared the cores were
    return row


def run_all(url: str, jobs: int, env: dict[str, str], steps: list[str]) -> dict[str, Any]:
    report: dict[str, Any] = {"url": url.split("?")[0], "jobs": jobs}
    for step in steps:
        report[step] = run_step(step, url, jobs, env)
        print(json.dumps({"jobs": jobs, "step": step, **report[step]}), flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--s3-jobs", type=int, default=10_000)
    parser.add_argument("--no-s3", action="store_true")
    parser.add_argument("--no-local", action="store_true")
    parser.add_argument(
        "--steps", nargs="*", choices=list(STEPS), help="steps to run (default: all, in order)"
    )
    parser.add_argument("--root", help="local store folder to use and keep (default: a temporary one)")
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(STEPS[args.step](args)))
        return
    env = dict(os.environ)
    env.setdefault("EPCLOUD_CACHE_DIR", tempfile.mkdtemp(prefix="bench-scale-cache-"))
    steps = args.steps or list(STEPS)
    if not args.no_local:
        root = Path(args.root) if args.root else Path(tempfile.mkdtemp(prefix="bench-scale-"))
        try:
            run_all(str(root / "study"), args.jobs, env, steps)
        finally:
            if not args.root:
                shutil.rmtree(root, ignore_errors=True)
    if not args.no_s3:
        from fixtures_s3 import MotoServer, new_client

        server = MotoServer()
        try:
            new_client(server.endpoint).create_bucket(Bucket="bench-scale")
            env["BENCH_S3_ENDPOINT"] = server.endpoint
            run_all("s3://bench-scale/study", args.s3_jobs, env, steps)
        finally:
            server.stop()
    print(json.dumps({"max_rss_self_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


if __name__ == "__main__":
    main()

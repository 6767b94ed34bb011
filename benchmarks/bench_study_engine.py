"""The study path against the raw engine on the same jobs: `energyplus` two at a time = 1.00, then
`study.run()` and two `epcloud worker` processes on a local S3 server (moto), interleaved repeats.

Reported per path: median wall seconds, the ratio to the raw engine, and CPU per job in three parts:
- epcloud's own, outside the engine: this process for `study.run()`, the worker processes for the
  workers, and their fork servers' own CPU (the forks);
- the engines' (children waited for, by epcloud or by its fork server);
- the moto server's: it shares the cores here, unlike a remote S3, so it is part of the wall ratio.
Also the CPU of one S3 request sent alone (boto3's `put_object`, and through the study's store), and
the requests' floor per job: requests per job × that.
Called by `bench_study.py --vs-engine`; runnable on its own:
    .venv/bin/python benchmarks/bench_study_engine.py [--jobs 40] [--repeat 5] [--engine cli|fork]
        [--upload [PATTERN ...]]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from bench_study import counted  # noqa: E402
from proc_cpu import fork_servers_cpu, process_cpu  # noqa: E402

from epcloud import Study  # noqa: E402
from epcloud.batch import SimulationJob  # noqa: E402
from epcloud.batch.executors import THREAD_LIMITS  # noqa: E402
from epcloud.engine import default_energyplus  # noqa: E402
from epcloud.model import Shoebox  # noqa: E402
from epcloud.storage import S3FileSystem  # noqa: E402
from fixtures_s3 import MotoServer, new_client  # noqa: E402

OPTIONS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
BUCKET = "bench-vs-engine"
# A worker process run by the benchmark: the CLI's own entry, then its own CPU (not its children's).
# Its fork servers outlive it unwaited (they end when its socket closes), so their CPU and their
# engines' is read before it exits.
_WORKER = """
import json, resource, sys
from epcloud.cli import main
try:
    code = main(sys.argv[3:])
finally:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    sys.path.insert(0, sys.argv[2])
    from proc_cpu import fork_servers_cpu
    forks, engines = fork_servers_cpu()
    with open(sys.argv[1], "w") as out:
        json.dump({"cpu": usage.ru_utime + usage.ru_stime, "forks": forks, "fork_engines": engines}, out)
sys.exit(code)
"""


def _models(folder: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        box = Shoebox(wall_r=1.0 + (i % 40) * 0.125, window_to_wall=0.1 + (i // 40 % 25) * 0.03)
        path = folder / f"m{i}.idf"
        path.write_text(box.to_idf())
        paths.append(path)
    return paths


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu() -> float:
    """CPU of the finished child processes waited for (the engines, the worker processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def raw_engine(models: list[Path], work: Path, server_pid: int) -> dict[str, float]:
    """The engine's own command, two at a time: the floor."""
    exe = str(default_energyplus().executable)

    def one(i_model: tuple[int, Path]) -> None:
        i, model = i_model
        out = work / f"raw-{i}"
        out.mkdir(parents=True, exist_ok=True)
        cmd = [exe, "--output-directory", str(out), "--output-prefix", "eplus", "--design-day", str(model)]
        env = {**os.environ, **THREAD_LIMITS}  # as epcloud runs it: one thread per engine
        subprocess.run(  # a session of its own, as epcloud starts engines: the same CPU share
            cmd,
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    engines, server = _children_cpu(), process_cpu(server_pid)[0]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(one, enumerate(models)))
    wall = time.perf_counter() - start
    n = len(models)
    return {
        "wall": wall,
        "cpu_per_job_ms": 0.0,
        "engine_cpu_per_job_ms": (_children_cpu() - engines) / n * 1000,
        "s3_server_cpu_per_job_ms": (process_cpu(server_pid)[0] - server) / n * 1000,
    }


def request_cpu(endpoint: str, count: int = 200) -> dict[str, float]:
    """This process's CPU per S3 request, alone: boto3's own `put_object` of 1 KB, and the same through
    the study's store (`S3FileSystem.write_bytes`). Times the requests per job, it is the floor of the
    study path's CPU per job with this client on this machine."""
    fs = S3FileSystem(BUCKET, prefix="request-cpu/", endpoint_url=endpoint, **OPTIONS)
    client = fs.client
    body = b"x" * 1024
    for i in range(10):  # connections, endpoint rules and credentials resolved first
        fs.write_bytes(f"warm-{i}", body)
    cpu = _own_cpu()
    for i in range(count):
        client.put_object(Bucket=BUCKET, Key=f"request-cpu/boto3-{i}", Body=body)
    boto3_ms = (_own_cpu() - cpu) / count * 1000
    cpu = _own_cpu()
    for i in range(count):
        fs.write_bytes(f"store-{i}", body)
    store_ms = (_own_cpu() - cpu) / count * 1000
    return {"boto3_put_cpu_ms": boto3_ms, "store_put_cpu_ms": store_ms}


UPLOAD: list[str] | None = None  # the studies' upload set (`--upload`); None: the default set


def _new_study(endpoint: str, name: str, models: list[Path]) -> Study:
    fs = S3FileSystem(BUCKET, prefix=f"{name}/", endpoint_url=endpoint, **OPTIONS)
    jobs = [SimulationJob(str(m), None, label=m.stem, design_day=True) for m in models]
    return Study.create(fs, jobs, shard_count=2, upload=UPLOAD)


def study_run(endpoint: str, name: str, models: list[Path], server_pid: int) -> dict[str, float]:
    """`study.run()` here; its CPU is this process's plus its fork server's own (the forks), and the
    engines' CPU is that of the children waited for, by this process or by its fork server."""
    study = _new_study(endpoint, name, models)
    cpu, engines, server = _own_cpu(), _children_cpu(), process_cpu(server_pid)[0]
    forks = fork_servers_cpu()
    with counted(study.fs) as requests:  # type: ignore[arg-type]
        start = time.perf_counter()
        report = study.run(max_workers=2)
        wall = time.perf_counter() - start
    assert report.succeeded == len(models), report
    n = len(models)
    forks_now = fork_servers_cpu()
    return {
        "wall": wall,
        "cpu_per_job_ms": (_own_cpu() - cpu + forks_now[0] - forks[0]) / n * 1000,
        "engine_cpu_per_job_ms": (_children_cpu() - engines + forks_now[1] - forks[1]) / n * 1000,
        "s3_server_cpu_per_job_ms": (process_cpu(server_pid)[0] - server) / n * 1000,
        "requests_per_job": sum(requests.values()) / n,
    }


def two_workers(
    endpoint: str, name: str, models: list[Path], work: Path, server_pid: int
) -> dict[str, float]:
    study = _new_study(endpoint, name, models)
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
    }
    url = f"s3://{BUCKET}/{name}"
    outs = [work / f"{name}-w{i}.json" for i in range(2)]
    children, server = _children_cpu(), process_cpu(server_pid)[0]
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WORKER,
                str(out),
                str(HERE),
                "worker",
                url,
                "--index",
                str(i),
                "--count",
                "2",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i, out in enumerate(outs)
    ]
    errors = [p.communicate()[1] for p in procs]
    wall = time.perf_counter() - start
    for proc, err in zip(procs, errors, strict=True):
        if proc.returncode != 0:
            raise RuntimeError(f"worker failed ({proc.returncode}): {err.decode()[-2000:]}")
    assert study.status().count("succeeded") == len(models)
    reports = [json.loads(out.read_text()) for out in outs]
    cpu = sum(report["cpu"] for report in reports)
    forks = sum(report["forks"] for report in reports)
    fork_engines = sum(report["fork_engines"] for report in reports)
    n = len(models)
    waited = _children_cpu() - children - cpu  # the engines the workers waited for (the CLI's)
    return {
        "wall": wall,
        "cpu_per_job_ms": (cpu + forks) / n * 1000,
        "engine_cpu_per_job_ms": (waited + fork_engines) / n * 1000,
        "s3_server_cpu_per_job_ms": (process_cpu(server_pid)[0] - server) / n * 1000,
    }


def run(jobs: int, repeat: int) -> dict[str, Any]:
    os.environ.setdefault("EPCLOUD_CACHE_DIR", tempfile.mkdtemp(prefix="bench-vs-engine-cache-"))
    work = Path(tempfile.mkdtemp(prefix="bench-vs-engine-"))
    models = _models(work, jobs)
    server = MotoServer()
    rows: dict[str, list[dict[str, float]]] = {"raw": [], "study_run": [], "two_workers": []}
    per_request: list[dict[str, float]] = []
    try:
        new_client(server.endpoint).create_bucket(Bucket=BUCKET)
        pid = server.process.pid
        raw_engine(models[:2], work, pid)  # warm the page cache and the engine's files
        for r in range(repeat):
            order = ["raw", "study_run", "two_workers"]
            order = order[r % 3 :] + order[: r % 3]  # interleaved, each path in each position
            for path in order:
                if path == "raw":
                    rows[path].append(raw_engine(models, work, pid))
                elif path == "study_run":
                    rows[path].append(study_run(server.endpoint, f"s{r}", models, pid))
                else:
                    rows[path].append(two_workers(server.endpoint, f"w{r}", models, work, pid))
            per_request.append(request_cpu(server.endpoint))
            print(
                json.dumps({"round": r, **{k: v[-1] for k, v in rows.items()}, "request": per_request[-1]}),
                flush=True,
            )
    finally:
        server.stop()
    raw = statistics.median(row["wall"] for row in rows["raw"])
    report: dict[str, Any] = {
        "jobs": jobs,
        "repeat": repeat,
        "engine": os.environ.get("EPCLOUD_ENGINE", "default"),
        "upload": "default" if UPLOAD is None else UPLOAD,
        "raw_wall_s": round(raw, 3),
    }
    for path in ("study_run", "two_workers"):
        wall = statistics.median(row["wall"] for row in rows[path])
        report[path] = {
            "wall_s": round(wall, 3),
            "ratio": round(wall / raw, 3),
            "ratios": [
                round(row["wall"] / raw_row["wall"], 3)
                for row, raw_row in zip(rows[path], rows["raw"], strict=True)
            ],
            **{
                key: round(statistics.median(row[key] for row in rows[path]), 1)
                for key in (
                    "cpu_per_job_ms",
                    "engine_cpu_per_job_ms",
                    "s3_server_cpu_per_job_ms",
                    "requests_per_job",
                )
                if key in rows[path][0]
            },
        }
    for key in ("boto3_put_cpu_ms", "store_put_cpu_ms"):
        report[key] = round(statistics.median(row[key] for row in per_request), 2)
    # The S3 requests alone, at what one costs when sent by itself: what no change short of fewer
    # requests (or a cheaper client) takes off the study path's CPU per job.
    report["request_floor_per_job_ms"] = round(
        report["study_run"]["requests_per_job"] * report["boto3_put_cpu_ms"], 1
    )
    report["raw_engine_cpu_per_job_ms"] = round(
        statistics.median(row["engine_cpu_per_job_ms"] for row in rows["raw"]), 1
    )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--engine", choices=("cli", "fork"), default=None)
    parser.add_argument(
        "--upload", nargs="*", metavar="PATTERN", help="the studies' upload set (none given: summaries only)"
    )
    args = parser.parse_args()
    if args.engine:
        os.environ["EPCLOUD_ENGINE"] = args.engine
    global UPLOAD
    UPLOAD = args.upload
    print(json.dumps(run(args.jobs, args.repeat)), flush=True)


if __name__ == "__main__":
    main()

"""Soak: a study run through a proxy that faults ~20 % of S3 requests, with workers SIGKILLed at random,
must end with every value equal to the same study run fault-free.

A moto server on 127.0.0.1 holds two buckets. The reference study is reached directly; the soaked one
through `tests/faultproxy.py`, which answers a random share of requests with 503 SlowDown, 500
InternalError, a TCP reset or a cut body, either before the server sees the request or after it applied
it. Both run as real `epcloud study create` / `epcloud worker --steal` (2 at a time) / `epcloud collect`
processes; the soaked workers are SIGKILLed at random and restarted until `epcloud status` says every
job has finished. The collected tables are then compared cell by cell (full precision).

Run by hand (about 3-5 minutes at the defaults on 2 cores; not part of CI):
    .venv/bin/python benchmarks/bench_soak.py [--jobs 20] [--fault-rate 0.2] [--kills 4] [--seed 1]
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import pandas as pd  # noqa: E402

from faultproxy import FaultProxy, Rule, _Request  # noqa: E402
from fixtures_s3 import CREDENTIALS, REGION, MotoServer, new_client  # noqa: E402

EPCLOUD = str(Path(sys.executable).parent / "epcloud")
VARIABLES = ["DistrictHeatingWater:Facility", "Zone Mean Air Temperature"]
SHARDS = 2
HEARTBEAT = 1.0
# Columns that describe a run rather than its result (where, when, how long, which attempt).
RUN_COLUMNS = ("attempt", "worker", "host", "time", "seconds", "started", "finished", "duration", "run_id")
# The engine's own tables compared job by job ("report/table"); design loads are the sizing tables.
ENGINE_TABLES = (
    "AnnualBuildingUtilityPerformanceSummary/End Uses",
    "AnnualBuildingUtilityPerformanceSummary/Site and Source Energy",
    "HVACSizingSummary/Zone Sensible Cooling",
    "HVACSizingSummary/Zone Sensible Heating",
)
# Hard deadlines per phase (seconds): bounded loops only.
CREATE_DEADLINE = 120.0
RUN_DEADLINE = 240.0
COLLECT_DEADLINE = 120.0
CREATE_ATTEMPTS = COLLECT_ATTEMPTS = 6
STATUS_EVERY = 3.0
KILL_EVERY = (1.0, 3.0)  # seconds between SIGKILLs, drawn uniformly

# The fault kinds: (action, after). "after" faults reach the server first (a PUT is applied).
KINDS: list[tuple[str, bool]] = [
    ("503", False),
    ("500", False),
    ("reset", False),
    ("503", True),
    ("500", True),
    ("reset", True),
    ("cut", True),
]


def kind_name(action: str, after: bool) -> str:
    return f"{action} {'after' if after else 'before'}"


class RandomFaultProxy(FaultProxy):
    """The fault proxy, faulting each request with probability `rate` (kind drawn uniformly from KINDS)."""

    def __init__(self, upstream: str, rate: float, seed: int) -> None:
        super().__init__(upstream)
        self.rate = rate
        self.random = random.Random(seed)
        self.injected: Counter[str] = Counter()
        self.by_method: Counter[str] = Counter()
        self.enabled = False
        self._rules = {
            kind: Rule(action, after=after) for action, after in KINDS for kind in [(action, after)]
        }

    def _rule_for(self, request: _Request) -> Rule | None:
        with self._lock:
            self.requests.append((request.method, request.path))
            if not self.enabled or self.random.random() >= self.rate:
                return None
            action, after = self.random.choice(KINDS)
            if action == "cut" and request.method in ("HEAD", "PUT", "DELETE"):
                action = "reset"  # no body worth cutting: a reset after the server applied it
            self.injected[kind_name(action, after)] += 1
            self.by_method[request.method] += 1
            return self._rules[(action, after)]


def environment(endpoint: str, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EPCLOUD_"))}
    env.update(
        AWS_ENDPOINT_URL_S3=endpoint,
        AWS_ACCESS_KEY_ID=CREDENTIALS["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=CREDENTIALS["aws_secret_access_key"],
        AWS_DEFAULT_REGION=REGION,
        EPCLOUD_CACHE_DIR=str(cache),
    )
    return env


@dataclass
class Phase:
    """What happened while running one study's workers."""

    kills: int = 0
    starts: int = 0
    create_errors: list[str] = field(default_factory=list)
    worker_errors: list[str] = field(default_factory=list)
    status_errors: int = 0
    collect_errors: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    logs: dict[int, Path] = field(default_factory=dict)
    attempts: str = ""
    killed_jobs: list[str] = field(default_factory=list)


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:600] if lines else ""


def run_cli(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EPCLOUD, *args], env=env, capture_output=True, text=True, timeout=timeout)


def create(url: str, sweep: Path, env: dict[str, str], phase: Phase) -> None:
    variables = [arg for name in VARIABLES for arg in ("--variable", name)]
    args = ["study", "create", url, str(sweep), "--design-day", "--shards", str(SHARDS), *variables, "--json"]
    start = time.monotonic()
    deadline = start + CREATE_DEADLINE
    while time.monotonic() < deadline:  # a failed create wrote nothing (it probes first): run it again
        done = run_cli(args, env, max(5.0, deadline - time.monotonic()))
        if done.returncode == 0:
            phase.seconds["create"] = time.monotonic() - start
            return
        phase.create_errors.append(f"exit {done.returncode}: {last_line(done.stderr + done.stdout)}")
        if len(phase.create_errors) >= CREATE_ATTEMPTS:
            break
    raise SystemExit(f"study create {url} did not succeed: {phase.create_errors}")


def status(url: str, env: dict[str, str], phase: Phase) -> dict[str, int] | None:
    try:
        done = run_cli(["status", url, "--json"], env, 60)
    except subprocess.TimeoutExpired:
        phase.status_errors += 1
        return None
    if done.returncode != 0:
        phase.status_errors += 1
        return None
    counts: dict[str, int] = json.loads(done.stdout)
    return counts


def finished(counts: dict[str, int] | None) -> bool:
    return counts is not None and counts["succeeded"] + counts["failed"] == counts["total"]


def start_worker(
    url: str, index: int, env: dict[str, str], logs: Path, phase: Phase
) -> subprocess.Popen[str]:
    """One `epcloud worker` process; its output goes to `logs/worker-<index>-<start>.log`."""
    phase.starts += 1
    log = (logs / f"worker-{index}-{phase.starts}.log").open("w")
    phase.logs[index] = Path(log.name)
    args = ["worker", url, "--index", str(index), "--count", str(SHARDS), "--steal"]
    args += ["--heartbeat", str(HEARTBEAT), "-j", "1"]
    return subprocess.Popen([EPCLOUD, *args], env=env, stdout=log, stderr=subprocess.STDOUT, text=True)


def run_workers(
    url: str,
    env: dict[str, str],
    phase: Phase,
    kills: int,
    rng: random.Random,
    logs: Path,
    leases: Callable[[], dict[int, str]],
) -> dict[str, int]:
    """Two workers until status says every job finished; `kills` SIGKILLs, each at a random moment
    while the victim holds a job's lease (mid-job, by `leases()`: worker pid -> job), each killed (or
    exited) worker restarted. Bounded by RUN_DEADLINE."""
    start = time.monotonic()
    deadline = start + RUN_DEADLINE
    workers = {index: start_worker(url, index, env, logs, phase) for index in range(SHARDS)}
    next_kill = time.monotonic() + rng.uniform(*KILL_EVERY)
    next_status = time.monotonic() + STATUS_EVERY
    counts: dict[str, int] | None = None
    try:
        while time.monotonic() < deadline:
            time.sleep(0.2)
            now = time.monotonic()
            if phase.kills < kills and now >= next_kill:
                held = leases()
                busy = [i for i, w in workers.items() if w.poll() is None and w.pid in held]
                if busy:  # else look again at the next turn
                    victim = rng.choice(busy)
                    workers[victim].send_signal(signal.SIGKILL)
                    workers[victim].wait(timeout=30)
                    phase.kills += 1
                    phase.killed_jobs.append(held[workers[victim].pid])
                    next_kill = now + rng.uniform(*KILL_EVERY)
            for index, worker in list(workers.items()):
                code = worker.poll()
                if code is None:
                    continue
                if code not in (0, -signal.SIGKILL):
                    output = phase.logs[index].read_text()
                    phase.worker_errors.append(f"exit {code}: {last_line(output)}")
                if code == 0 and not finished(counts):
                    counts = status(url, env, phase)  # fresh counts: was that the last job?
                if code != 0 or not finished(counts):
                    workers[index] = start_worker(url, index, env, logs, phase)
            if now >= next_status:
                counts = status(url, env, phase)
                next_status = time.monotonic() + STATUS_EVERY
                if finished(counts) and all(w.poll() is not None for w in workers.values()):
                    break
                if finished(counts):
                    for worker in workers.values():  # the rest only look for work to steal
                        worker.wait(timeout=max(1.0, deadline - time.monotonic()))
                    break
        else:
            raise SystemExit(f"{url}: not all jobs finished within {RUN_DEADLINE:.0f} s: {counts}")
    finally:
        for worker in workers.values():
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    phase.seconds["workers"] = time.monotonic() - start
    assert counts is not None
    return counts


def collect(url: str, env: dict[str, str], phase: Phase) -> dict[str, Any]:
    """`epcloud collect`, run again after a failed attempt (each failure counted), within COLLECT_DEADLINE."""
    start = time.monotonic()
    deadline = start + COLLECT_DEADLINE
    while time.monotonic() < deadline:
        done = run_cli(["collect", url, "--json"], env, max(5.0, deadline - time.monotonic()))
        if done.returncode == 0:
            phase.seconds["collect"] = time.monotonic() - start
            report: dict[str, Any] = json.loads(done.stdout)
            return report
        phase.collect_errors.append(f"exit {done.returncode}: {last_line(done.stderr + done.stdout)}")
        if len(phase.collect_errors) >= COLLECT_ATTEMPTS:
            break
    raise SystemExit(f"collect {url} did not succeed within {COLLECT_DEADLINE:.0f} s: {phase.collect_errors}")


def read_tables(client: Any, bucket: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The collected jobs table and every series part, read directly (not through the proxy)."""
    body = client.get_object(Bucket=bucket, Key="study/jobs.parquet")["Body"].read()
    jobs = pd.read_parquet(io.BytesIO(body))
    parts = []
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="study/timeseries/")
    for page in pages:
        for item in page.get("Contents", []):
            if not item["Key"].endswith(".parquet"):
                continue
            frame = pd.read_parquet(
                io.BytesIO(client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
            )
            frame["variable_part"] = item["Key"].split("variable=")[1].split("/")[0]
            parts.append(frame)
    series = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return jobs, series


def engine_values(server: str, bucket: str) -> dict[str, list[tuple[Any, ...]]]:
    """Each done job's End Uses, Site and Source Energy and zone design loads, as EnergyPlus wrote them
    in its SQL output (every cell, as stored), read directly from the attempt its done-marker commits."""
    from epcloud.storage import S3FileSystem
    from epcloud.study import Study

    fs = S3FileSystem(
        bucket,
        prefix="study",
        endpoint_url=server,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
    )
    study = Study.open(fs)
    marks = ",".join("?" * len(ENGINE_TABLES))
    query = (
        "SELECT ReportName, TableName, RowName, ColumnName, Units, Value FROM TabularDataWithStrings "
        f"WHERE ReportName || '/' || TableName IN ({marks}) ORDER BY 1, 2, 3, 4"
    )
    values = {}
    for entry in study.entries():
        with study.result(entry.id) as result:
            values[entry.id] = result.sql.query(query, ENGINE_TABLES)
    return values


def lease_holders(client: Any, bucket: str) -> dict[int, str]:
    """The jobs leased right now, by the pid of the worker holding the lease (read directly)."""
    held: dict[int, str] = {}
    for item in client.list_objects_v2(Bucket=bucket, Prefix="study/leases/").get("Contents", []):
        try:
            lease = json.loads(client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
        except client.exceptions.NoSuchKey:
            continue  # released since the listing
        pid = str(lease.get("worker", "")).rpartition("-")[2]
        if pid.isdigit():
            held[int(pid)] = str(lease.get("job"))
    return held


def attempts(client: Any, bucket: str) -> str:
    """How many attempt folders the workers started, and for how many jobs more than one."""
    per_job: Counter[str] = Counter()
    seen: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="study/results/"):
        for item in page.get("Contents", []):
            found = re.search(r"results/[^/]+/([^/]+)/(attempt-[^/]+)/", item["Key"])
            if found and found.group(0) not in seen:
                seen.add(found.group(0))
                per_job[found.group(1)] += 1
    again = sum(1 for n in per_job.values() if n > 1)
    return f"{sum(per_job.values())} ({again})"


def result_columns(jobs: pd.DataFrame) -> list[str]:
    return [c for c in jobs.columns if not any(word in c.lower() for word in RUN_COLUMNS)]


def compare(reference: pd.DataFrame, soaked: pd.DataFrame, key: list[str]) -> list[str]:
    """Differences between two tables (same columns, same rows by `key`, every cell equal)."""
    problems: list[str] = []
    if list(reference.columns) != list(soaked.columns):
        return [f"columns differ: {sorted(set(reference.columns) ^ set(soaked.columns))}"]
    left = reference.sort_values(key).reset_index(drop=True)
    right = soaked.sort_values(key).reset_index(drop=True)
    if len(left) != len(right):
        return [f"{len(left)} rows against {len(right)}"]
    for column in left.columns:
        a, b = left[column], right[column]
        equal = (a == b) | (a.isna() & b.isna())
        if not bool(equal.all()):
            first = int((~equal).to_numpy().nonzero()[0][0])
            problems.append(
                f"{column}: {int((~equal).sum())} cells differ, e.g. {a[first]!r} != {b[first]!r}"
            )
    return problems


def write_results(report: dict[str, Any]) -> None:
    path = HERE / "RESULTS.md"
    text = path.read_text()
    section = render(report)
    start = text.find("## bench_soak.py")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    else:
        chart = text.find("## Chart")
        text = text[:chart] + section + "\n" + text[chart:] if chart >= 0 else text + "\n" + section
    path.write_text(text)


def render(r: dict[str, Any]) -> str:
    faults = ", ".join(f"{kind} {n}" for kind, n in sorted(r["faults"].items()))
    lines = [
        "## bench_soak.py",
        "",
        f"Run by hand on {r['date']}; {r['machine']}.",
        f"`.venv/bin/python benchmarks/bench_soak.py --jobs {r['jobs']} --fault-rate {r['fault_rate']} "
        f"--kills {r['kills_asked']} --seed {r['seed']}` — {r['jobs']} design-day shoebox jobs in "
        f"{SHARDS} shards, twice on one moto server: directly (reference) and through the fault proxy. "
        f"Workers are `epcloud worker --steal --heartbeat {HEARTBEAT:g} -j 1`, two at a time; the soaked "
        "ones are SIGKILLed at random moments while they hold a job's lease, and restarted (as is any "
        "worker that exits with an error) until `epcloud status` says all done.",
        "",
        "| | reference | soaked |",
        "|---|---|---|",
        f"| requests through the proxy | — | {r['proxied_requests']} |",
        f"| faults injected | 0 | {r['faults_total']} ({r['faults_share']:.1%} of requests) |",
        f"| SIGKILLs mid-job / worker starts | 0 / {r['reference']['starts']} | {r['soaked']['kills']} / "
        f"{r['soaked']['starts']} |",
        f"| workers that exited with an error | {len(r['reference']['worker_errors'])} | "
        f"{len(r['soaked']['worker_errors'])} |",
        f"| attempt folders written (jobs with more than one) | {r['reference']['attempts']} | "
        f"{r['soaked']['attempts']} |",
        f"| failed `status` / `collect` calls | {r['reference']['status_errors']} / "
        f"{len(r['reference']['collect_errors'])} | {r['soaked']['status_errors']} / "
        f"{len(r['soaked']['collect_errors'])} |",
        f"| create / workers / collect, s | {_times(r['reference'])} | {_times(r['soaked'])} |",
        "",
        f"Faults by kind: {faults}. Jobs whose worker was killed: "
        f"{', '.join(r['soaked']['killed_jobs']) or 'none'}. Total wall time {r['wall_seconds']:.0f} s.",
        "",
        f"**Verdict: {r['verdict']}** — {r['verdict_detail']}",
    ]
    failures = Counter(
        f"`{kind.split('_')[0]}`: {cause(item)}"
        for name in ("reference", "soaked")
        for kind in ("create_errors", "worker_errors", "collect_errors")
        for item in r[name][kind]
    )
    if failures:
        lines += ["", "Processes that exited with an error (each run again; by cause):"]
        lines += [f"- {count} × {text}" for text, count in failures.most_common()]
    if any("write-probe" in text for text in failures):
        lines += [
            "",
            "The write probe (`check_writable()`: a conditional PUT and a DELETE before any compute) uses a "
            "client of one attempt, so one 503, 500 or reset on either request ends `study create` or "
            "`epcloud worker` at start-up with exit 3 (and its message says “after 3 attempts”). Nothing "
            "is lost and a rerun succeeds; a retry of transient answers there would spare the restart.",
        ]
    return "\n".join(lines) + "\n"


def cause(message: str) -> str:
    """An error line without what varies from one failure to the next (probe names, ports), shortened."""
    text = re.sub(r"write-probe-[0-9a-f]+", "write-probe-…", message)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:…", text)
    text = re.sub(r'^exit \d+: (\{"error": \{"type": "\w+", "message": "|error: )', "", text)
    text = re.sub(r'", "exit_code": \d+\}\}$', "", text)
    return text[:160] + ("…" if len(text) > 160 else "")


def _times(phase: dict[str, Any]) -> str:
    s = phase["seconds"]
    return " / ".join(f"{s.get(step, float('nan')):.1f}" for step in ("create", "workers", "collect"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    if not 0.0 <= args.fault_rate < 1.0 or args.jobs < 1 or args.kills < 0:
        parser.error("--jobs >= 1, --kills >= 0 and 0 <= --fault-rate < 1")

    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    sweep = work / "sweep.json"
    sweep.write_text(json.dumps([{"label": f"w{i:03d}", "wall_r": 1.0 + 0.25 * i} for i in range(args.jobs)]))
    rng = random.Random(args.seed)
    server = MotoServer()
    proxy = RandomFaultProxy(server.endpoint, args.fault_rate, args.seed)
    report: dict[str, Any] = {}
    try:
        client = new_client(server.endpoint)
        phases: dict[str, Phase] = {}
        tables = {}
        engine: dict[str, dict[str, list[tuple[Any, ...]]]] = {}
        for name, endpoint in (("reference", server.endpoint), ("soaked", proxy.endpoint)):
            bucket = f"soak-{name}"
            client.create_bucket(Bucket=bucket)
            url = f"s3://{bucket}/study"
            env = environment(endpoint, work / f"cache-{name}")
            logs = work / f"logs-{name}"
            logs.mkdir()
            phase = phases[name] = Phase()
            proxy.enabled = name == "soaked"
            create(url, sweep, env, phase)
            kills = args.kills if name == "soaked" else 0
            leases = functools.partial(lease_holders, client, bucket)
            counts = run_workers(url, env, phase, kills, rng, logs, leases)
            collect(url, env, phase)
            proxy.enabled = False
            tables[name] = read_tables(client, bucket)
            engine[name] = engine_values(server.endpoint, bucket)
            phase.attempts = attempts(client, bucket)
            print(json.dumps({name: counts, "seconds": phase.seconds}), flush=True)

        (ref_jobs, ref_series), (soak_jobs, soak_series) = tables["reference"], tables["soaked"]
        columns = result_columns(ref_jobs)
        problems = compare(ref_jobs[columns], soak_jobs[[c for c in columns if c in soak_jobs]], ["job_id"])
        series_key = [c for c in ("variable_part", "job_id", "variable", "timestamp") if c in ref_series]
        problems += [f"series {p}" for p in compare(ref_series, soak_series, series_key)]
        cells = sum(len(rows) for rows in engine["reference"].values())
        if engine["reference"].keys() != engine["soaked"].keys():
            problems.append("the done jobs differ")
        for job, rows in engine["reference"].items():
            if engine["soaked"].get(job) != rows:
                problems.append(f"{job}: the engine's End Uses / energy / design-load cells differ")
        if not cells:
            problems.append("no engine table cells to compare")
        statuses = Counter(ref_jobs["status"]) if "status" in ref_jobs else Counter()
        if len(ref_jobs) != args.jobs:
            problems.append(f"the reference collected {len(ref_jobs)} jobs, not {args.jobs}")
        verdict = "PASS" if not problems else "FAIL"
        by_status = ", ".join(f"{n} {state}" for state, n in statuses.items())
        detail = (
            f"{len(ref_jobs)} jobs ({by_status}), {len(columns)} result columns and "
            f"{len(ref_series)} series rows equal to full precision; the engine's End Uses, Site and "
            f"Source Energy and zone sensible design-load tables ({cells} cells) identical for every job"
            if not problems
            else "; ".join(problems[:5])
        )
        total = len(proxy.requests)
        faulted = sum(proxy.injected.values())
        report = {
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the end",
            "jobs": args.jobs,
            "fault_rate": args.fault_rate,
            "kills_asked": args.kills,
            "seed": args.seed,
            "proxied_requests": total,
            "faults": dict(proxy.injected),
            "faults_by_method": dict(proxy.by_method),
            "faults_total": faulted,
            "faults_share": faulted / total if total else 0.0,
            "reference": {k: v for k, v in phases["reference"].__dict__.items() if k != "logs"},
            "soaked": {k: v for k, v in phases["soaked"].__dict__.items() if k != "logs"},
            "compared_columns": columns,
            "wall_seconds": time.monotonic() - began,
            "verdict": verdict,
            "verdict_detail": detail,
        }
        print(json.dumps(report, indent=2, default=str))
        if not args.no_write:
            write_results(report)
        if problems:
            raise SystemExit(f"FAIL; the workers' logs are kept in {work}")
        shutil.rmtree(work, ignore_errors=True)
    finally:
        proxy.close()
        server.stop()


if __name__ == "__main__":
    threading.current_thread().name = "bench-soak"
    main()

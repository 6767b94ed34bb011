"""Where a study keeps everything in its store: one function per kind of object, so keys live in one place.

```
study.json                              provenance, counts, requested variables (written last by create)
manifest/shard-00000.json               the jobs of one shard: a worker reads only its own
inputs/models/<sha256>.idf              each distinct model once, content-addressed
inputs/weather/<sha256>.epw             each distinct weather file once
results/shard-00000/<job-id>/attempt-<id>/...      one attempt's outputs, summary.json, run-status.json last
results/shard-00000/<job-id>/done.json   the done-marker: created once, names the attempt it commits
done/shard-00000/<job-id>.<status>.<token>.json   a copy of the summary, written after the done-marker
digests/shard-00000/<run-id>.json       the summaries of one worker run, in one object (for collect)
leases/<job-id>.json                    a running job's lease (who runs it; renewed every heartbeat)
jobs.parquet                            what collect writes: one row per job,
timeseries/variable=<slug>/part-00000.parquet   the series, partitioned hive-style (one part per shard),
timeseries/_common_metadata             their schema; collect/state.json: what the last collect read
```
Results are grouped by shard so a worker lists only its own shard's results (one LIST request). The
``done/`` index has one small key per finished job, so status and collect list a job once, not its ten
output files; ``token`` is a hash of the summary, so a digest entry with the same token is the same summary.
Each attempt at a job writes under its own key and nothing is ever overwritten: the done-marker, created
only if absent, is what makes one attempt the job's result (see docs/reliability.md).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from epcloud.storage import FileInfo

__all__ = [
    "COLLECT_STATE",
    "DIGESTS",
    "DONE",
    "DONE_MARKER",
    "INPUTS",
    "JOBS_TABLE",
    "LEASES",
    "MANIFEST",
    "RESULTS",
    "STUDY_FILE",
    "SUMMARY_FILE",
    "TIMESERIES",
    "TIMESERIES_METADATA",
    "DoneKey",
    "attempt_dir",
    "digest_path",
    "digest_shard",
    "done_marker",
    "done_path",
    "job_id",
    "lease_path",
    "manifest_path",
    "model_path",
    "new_attempt",
    "newest_done",
    "result_dir",
    "shard_results",
    "split_attempt_path",
    "split_done_path",
    "split_result_path",
    "timeseries_folder",
    "timeseries_path",
    "variable_slug",
    "weather_path",
]

STUDY_FILE = "study.json"
MANIFEST = "manifest"
INPUTS = "inputs"
RESULTS = "results"
LEASES = "leases"
JOBS_TABLE = "jobs.parquet"
TIMESERIES = "timeseries"
TIMESERIES_METADATA = "timeseries/_common_metadata"
COLLECT_STATE = "collect/state.json"
SUMMARY_FILE = "summary.json"
DONE = "done"
DIGESTS = "digests"
DONE_MARKER = "done.json"
NOTES = "notes"  # notes/missing-variables/<job-id>.json: what a job's EnergyPlus did not report
ATTEMPT_PREFIX = "attempt-"

_RESULT_PATH = re.compile(r"^results/shard-(\d{5,})/([^/]+)/(?:(attempt-[0-9a-f]+)/)?(.+)$")
_DONE_PATH = re.compile(r"^done/shard-(\d{5,})/([^/.]+)\.(succeeded|failed)\.([0-9a-f]+)\.json$")
_DIGEST_PATH = re.compile(r"^digests/shard-(\d{5,})/[^/]+\.json$")


def job_id(index: int) -> str:
    """The id of the study's ``index``-th job (zero-padded, so listings sort in job order)."""
    return f"job-{index:06d}"


def manifest_path(shard: int) -> str:
    return f"{MANIFEST}/shard-{shard:05d}.json"


def model_path(sha256: str, suffix: str = ".idf") -> str:
    return f"{INPUTS}/models/{sha256}{suffix}"


def weather_path(sha256: str) -> str:
    return f"{INPUTS}/weather/{sha256}.epw"


def shard_results(shard: int) -> str:
    """The folder holding every result of one shard."""
    return f"{RESULTS}/shard-{shard:05d}"


def result_dir(shard: int, job: str) -> str:
    """The folder of one job's outputs."""
    return f"{shard_results(shard)}/{job}"


def attempt_dir(shard: int, job: str, attempt: str) -> str:
    """The folder of one attempt's outputs: each attempt writes under its own key."""
    return f"{result_dir(shard, job)}/{attempt}"


def new_attempt() -> str:
    """A fresh attempt name (random, so two attempts never share a key)."""
    return f"{ATTEMPT_PREFIX}{uuid.uuid4().hex[:16]}"


def done_marker(shard: int, job: str) -> str:
    """The done-marker of a job: created once, it names the attempt that is the job's result."""
    return f"{result_dir(shard, job)}/{DONE_MARKER}"


def split_result_path(path: str) -> tuple[int, str, str] | None:
    """(shard, job id, file name within its attempt) of a path below ``results/``, else None."""
    parts = split_attempt_path(path)
    return None if parts is None else (parts[0], parts[1], parts[3])


def split_attempt_path(path: str) -> tuple[int, str, str | None, str] | None:
    """(shard, job id, attempt or None for the job's own files, file name) of a path below ``results/``."""
    match = _RESULT_PATH.match(path)
    if match is None:
        return None
    return int(match.group(1)), match.group(2), match.group(3), match.group(4)


def done_path(shard: int, job: str, status: str, token: str) -> str:
    """The done-index key of a finished job (``status`` is "succeeded" or "failed")."""
    return f"{DONE}/shard-{shard:05d}/{job}.{status}.{token}.json"


def split_done_path(path: str) -> tuple[int, str, str, str] | None:
    """(shard, job id, status, token) of a done-index key, or None for anything else."""
    match = _DONE_PATH.match(path)
    if match is None:
        return None
    return int(match.group(1)), match.group(2), match.group(3), match.group(4)


class DoneKey(NamedTuple):
    """A job's done-index key: where it is, what it says, and when it was written (epoch s)."""

    path: str
    shard: int
    status: str
    token: str
    mtime: float


def newest_done(listing: Iterable[FileInfo]) -> tuple[dict[str, DoneKey], dict[str, list[str]]]:
    """Each job's newest done-index key in a listing, and every key of each job (a key left by an
    older attempt is older: the newest wins; on a tie of mtimes, the key listed last)."""
    newest: dict[str, DoneKey] = {}
    keys: dict[str, list[str]] = {}
    for info in listing:
        parts = split_done_path(info.path)
        if parts is None:
            continue
        shard, job, status, token = parts
        key = DoneKey(info.path, shard, status, token, info.mtime or 0.0)
        known = keys.get(job)
        if known is None:
            keys[job] = [info.path]
            newest[job] = key
        else:
            known.append(info.path)
            if key.mtime >= newest[job].mtime:
                newest[job] = key
    return newest, keys


def digest_path(shard: int, run_id: str) -> str:
    return f"{DIGESTS}/shard-{shard:05d}/{run_id}.json"


def digest_shard(path: str) -> int | None:
    """The shard of a digest key, or None for anything else."""
    match = _DIGEST_PATH.match(path)
    return int(match.group(1)) if match else None


def missing_variables_note(job: str) -> str:
    """The note a worker leaves when a job's EnergyPlus did not report a requested variable."""
    return f"{NOTES}/missing-variables/{job}.json"


def lease_path(job: str) -> str:
    return f"{LEASES}/{job}.json"


def variable_slug(variable: str) -> str:
    """A key-safe folder name for an output variable ("Electricity:Facility" → "electricity_facility")."""
    return re.sub(r"[^a-z0-9]+", "_", variable.lower()).strip("_") or "variable"


def timeseries_folder(variable: str) -> str:
    """The hive partition of one variable's series (``variable=<slug>``)."""
    return f"{TIMESERIES}/variable={variable_slug(variable)}"


def timeseries_path(variable: str, shard: int) -> str:
    return f"{timeseries_folder(variable)}/part-{shard:05d}.parquet"

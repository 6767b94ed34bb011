"""Step 3: every done job's summary into Parquet in the store: ``jobs.parquet`` and ``timeseries/``.

The series are one hive-partitioned dataset (``timeseries/variable=<slug>/part-<shard>.parquet`` and its
``_common_metadata``), so pyarrow, DuckDB, Athena and Spark read them in place; in the files, the
variable's full name is the column ``variable_name`` (``variable`` is the partition's slug).

One listing of the done index finds the finished jobs; each shard's summaries come from the digests
its workers wrote (one GET for many jobs), else one GET per job; shards are read in parallel, a bounded
window at a time. A small state file (the token of each summary read) makes the next collect read only
what changed since.
"""

from __future__ import annotations

import concurrent.futures as cf
import io
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from epcloud.errors import CorruptResultError, StorageError, StorageNotFoundError, StudyVariableError
from epcloud.study import layout
from epcloud.study.summary import (
    BUILDING_AREA,
    TOTAL_SITE_ENERGY,
    check_summary,
    parse_summary,
)

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from epcloud.storage import FileInfo, FileSystem
    from epcloud.study.manifest import JobEntry, StudyInfo

__all__ = ["JOB_COLUMNS", "StudyTables", "collect_study", "series_schema"]

log = logging.getLogger(__name__)

JOB_COLUMNS = (
    "job_id",
    "index",
    "shard",
    "label",
    "status",
    "runtime_seconds",
    "warnings",
    "severe",
    "exit_code",
    "timed_out",
    "fatal",
    "error",
    "energyplus_version",
    "run_period",
)
# Nullable types: a pending job's row has no counts, yet the column keeps its type.
_COLUMN_TYPES = {
    "warnings": "Int64",
    "severe": "Int64",
    "exit_code": "Int64",
    "timed_out": "boolean",
    **{name: "string" for name in ("label", "status", "fatal", "error", "energyplus_version", "run_period")},
}
MISSING_COLUMN = "missing_variables"
"""Requested variables a job's EnergyPlus did not report (comma-separated; null when none were missing)."""
ALWAYS_VALUES = (BUILDING_AREA, TOTAL_SITE_ENERGY)
_SERIES_COLUMNS = ("job_id", "variable_name", "key", "units", "frequency", "timestamp", "value")
_READ_THREADS = 32
_WINDOW = 16  # shards read at once: memory holds at most this many shards' series
_LIST_PAGE = 1000  # keys in one page of an S3 listing
_SEQUENTIAL_PAGES = 20  # the most pages listed one after the other (a round trip each)
_STATE_FORMAT = 1
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class StudyTables:
    """What collect returns: one row per job, the long-form series (None when none were requested)."""

    jobs: pd.DataFrame
    timeseries: pd.DataFrame | None
    read: int  # summaries read by this collect (the others came from the last one)
    sweep: dict[str, Any] | None = None  # the sweep the study was created from, if any

    def __iter__(self) -> Iterator[Any]:
        return iter((self.jobs, self.timeseries))

    def sensitivity(self, target: str) -> pd.DataFrame:
        """The sweep's parameters ranked for the result column ``target`` (method in ``method``)."""
        from epcloud.study.sensitivity import sensitivity

        return sensitivity(self.jobs, target, self.sweep)

    def plot(self, what: str = "eui", *, kind: str = "monthly") -> Any:
        """One of the report's charts as a plotly figure (``epcloud[plot]``): "eui", "site_energy",
        "end_uses", "design_loads", "runtime", or a requested series by name (``kind`` "monthly" or
        "day" for its average day per month)."""
        from epcloud.report.study_plot import study_figure

        return study_figure(self.jobs, self.timeseries, what, kind=kind)


def _bounded_map(pool: cf.Executor, fn: Callable[[T], R], items: Iterable[T], window: int) -> Iterator[R]:
    """``map`` in order with at most ``window`` calls in flight, so results never pile up in memory."""
    queue: list[cf.Future[R]] = []
    for item in items:
        queue.append(pool.submit(fn, item))
        if len(queue) >= window:
            yield queue.pop(0).result()
    for future in queue:
        yield future.result()


def _done_listings(fs: FileSystem, shard_count: int, job_count: int) -> list[list[FileInfo]]:
    """The done index: in one paginated listing while that is at most twice the round trips of one
    listing per shard in parallel (and at most `_SEQUENTIAL_PAGES` pages), else one listing per shard.

    One listing sends a page of 1,000 keys per request, a request per shard sends 50: 20 times fewer
    requests, each costing the client CPU to send and the server a lookup (a server that scans its
    whole index per LIST, as moto does, answers 10 pages far sooner than 200 LISTs).
    """
    pages = -(-job_count // _LIST_PAGE)
    rounds = -(-shard_count // _READ_THREADS)
    if pages <= max(2 * rounds, 2) and pages <= _SEQUENTIAL_PAGES:
        return [fs.list_files(layout.DONE)]
    folders = [f"{layout.DONE}/shard-{shard:05d}" for shard in range(shard_count)]
    with cf.ThreadPoolExecutor(max_workers=min(_READ_THREADS, shard_count)) as pool:
        return list(pool.map(fs.list_files, folders))


def _done_jobs(fs: FileSystem, shard_count: int, job_count: int) -> dict[str, tuple[str, str]]:
    """(token, key) of every finished job, from the done index."""
    listings = _done_listings(fs, shard_count, job_count)
    newest, _ = layout.newest_done(info for listing in listings for info in listing)
    return {job: (key.token, key.path) for job, key in newest.items()}


def _digests(fs: FileSystem) -> dict[int, list[str]]:
    """The digest keys of each shard, from one listing."""
    by_shard: dict[int, list[str]] = {}
    for info in fs.list_files(layout.DIGESTS):
        shard = layout.digest_shard(info.path)
        if shard is not None:
            by_shard.setdefault(shard, []).append(info.path)
    return by_shard


def _digest_summaries(fs: FileSystem, paths: Sequence[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """Summaries of a shard's digests by (job, token); a digest that cannot be read is only skipped.

    An entry is taken at its word (its token is the one its worker computed for that summary, and the
    token is then matched against the done index): re-encoding every summary to hash it again cost
    more than reading it. An entry that names another job, or is not a summary, is not used.
    """
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in paths:
        try:
            jobs = json.loads(fs.read_bytes(path))["jobs"]
            for job, item in jobs.items():
                summary, token = item["summary"], item["token"]
                if isinstance(summary, dict) and isinstance(token, str) and summary.get("id", job) == job:
                    found[(job, token)] = summary
        except (StorageError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # a cut or refused read included: its jobs' done-index objects are read instead
            log.warning("skipping digest %s (its jobs are read one by one): %s", fs.url(path), exc)
    return found


def _checked(fs: FileSystem, summary: dict[str, Any], path: str) -> dict[str, Any]:
    """`check_summary`, naming the store URL of ``path`` only when it fails (a URL per job is costly)."""
    try:
        return check_summary(summary, path)
    except CorruptResultError:
        return check_summary(summary, fs.url(path))


def _shard_reader(
    fs: FileSystem, done: dict[str, tuple[str, str]], digests: dict[int, list[str]]
) -> Callable[[list[JobEntry]], list[tuple[JobEntry, dict[str, Any]]]]:
    """Reads the summaries of one shard's jobs: from its digests, else one GET per job."""

    def read(jobs: list[JobEntry]) -> list[tuple[JobEntry, dict[str, Any]]]:
        known = _digest_summaries(fs, digests.get(jobs[0].shard, []))
        missing = [e for e in jobs if (e.id, done[e.id][0]) not in known]

        def fetch(entry: JobEntry) -> dict[str, Any]:
            path = done[entry.id][1]
            return parse_summary(fs.read_bytes(path), fs.url(path))

        fetched: dict[str, dict[str, Any]] = {}
        if missing:
            with cf.ThreadPoolExecutor(max_workers=min(8, len(missing))) as pool:
                fetched = dict(zip((e.id for e in missing), pool.map(fetch, missing), strict=True))
        out = []
        for entry in jobs:
            token, path = done[entry.id]
            summary = fetched.get(entry.id)
            out.append(
                (entry, summary if summary is not None else _checked(fs, known[(entry.id, token)], path))
            )
        return out

    return read


def _read_state(fs: FileSystem) -> dict[str, str]:
    try:
        data = json.loads(fs.read_text(layout.COLLECT_STATE))
    except StorageNotFoundError:
        return {}
    except json.JSONDecodeError:
        log.warning("%s is not valid JSON: collecting everything again", fs.url(layout.COLLECT_STATE))
        return {}
    if not isinstance(data, dict) or data.get("format") != _STATE_FORMAT:
        return {}
    return dict(data.get("summaries") or {})


def _read_parquet(fs: FileSystem, path: str) -> pa.Table | None:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(io.BytesIO(fs.read_bytes(path)))
    except StorageNotFoundError:
        return None


def _write_parquet(fs: FileSystem, path: str, table: pa.Table) -> None:
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    fs.write_bytes(path, sink.getvalue())


def _base_row(entry: JobEntry, param_names: Sequence[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "job_id": entry.id,
        "index": entry.index,
        "shard": entry.shard,
        "label": entry.label,
    }
    for name in param_names:
        row[_param_column(name)] = entry.parameters.get(name)
    return row


def parameter_column(name: str) -> str:
    """The jobs-table column of a study parameter (``param_<name>`` where a run's column has the name)."""
    return f"param_{name}" if name in JOB_COLUMNS else name


_param_column = parameter_column


class _SeriesBuffer:
    """Long-form series rows of one shard, by variable, as column lists."""

    def __init__(self, wanted: set[str] | None) -> None:
        self.wanted = wanted
        self.columns: dict[str, dict[str, list[Any]]] = {}

    def add(self, job: str, summary: dict[str, Any]) -> None:
        for series in summary.get("series") or ():
            variable = str(series["variable"])
            if self.wanted is not None and variable.lower() not in self.wanted:
                continue
            cols = self.columns.setdefault(variable, {name: [] for name in _SERIES_COLUMNS})
            stamps = series["timestamps"]
            for key, values in series["data"].items():
                cols["job_id"] += [job] * len(values)
                cols["variable_name"] += [variable] * len(values)
                cols["key"] += [key] * len(values)
                cols["units"] += [series["units"]] * len(values)
                cols["frequency"] += [series["frequency"]] * len(values)
                cols["timestamp"] += stamps
                cols["value"] += values

    def table(self, variable: str) -> pa.Table:
        import pyarrow as pa

        cols = self.columns.get(variable) or {name: [] for name in _SERIES_COLUMNS}
        return pa.table({name: pa.array(cols[name], type=_series_type(name)) for name in _SERIES_COLUMNS})


def _series_type(name: str) -> pa.DataType:
    import pyarrow as pa

    return {"timestamp": pa.timestamp("s"), "value": pa.float64()}.get(name, pa.string())


def series_schema() -> pa.Schema:
    """The schema of every series file (the dataset adds the partition column ``variable``)."""
    import pyarrow as pa

    return pa.schema([(name, _series_type(name)) for name in _SERIES_COLUMNS])


def _legacy_series(fs: FileSystem) -> list[str]:
    """Series files of the layout before hive partitions (``timeseries/<slug>/shard-*.parquet``)."""
    return [
        info.path
        for info in fs.list_files(layout.TIMESERIES)
        if info.path != layout.TIMESERIES_METADATA
        and not info.path.startswith(f"{layout.TIMESERIES}/variable=")
    ]


def _write_series_metadata(fs: FileSystem) -> None:
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_metadata(series_schema(), sink)
    fs.write_bytes(layout.TIMESERIES_METADATA, sink.getvalue())


def _variables_of(info: StudyInfo, asked: Iterable[str] | None) -> list[str]:
    requested = [v.name for v in info.variables]
    if asked is None:
        return requested
    names = list(asked)
    unknown = [n for n in names if n.lower() not in {r.lower() for r in requested}]
    if unknown:
        raise StudyVariableError(
            f"variables {unknown} were not requested when the study was created; it holds {requested}"
        )
    return names


def _flush_shard(
    fs: FileSystem, shard: int, buffer: _SeriesBuffer, variables: Sequence[str], dropped: set[str] | None
) -> None:
    """Write one shard's series partitions: the rows just read, plus (``dropped`` given) the old rows
    of the other jobs."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = {v.lower(): v for v in buffer.columns}
    for variable in variables:
        path = layout.timeseries_path(variable, shard)
        new = buffer.table(found.get(variable.lower(), variable))
        old = _read_parquet(fs, path) if dropped is not None else None
        if dropped is not None and old is not None and old.num_rows:
            keep = pc.invert(pc.is_in(old["job_id"], value_set=pa.array(sorted(dropped), type=pa.string())))
            new = pa.concat_tables([old.filter(keep).select(list(_SERIES_COLUMNS)).cast(new.schema), new])
        _write_parquet(fs, path, new)


def collect_study(
    fs: FileSystem,
    info: StudyInfo,
    entries: Sequence[JobEntry],
    *,
    variables: Iterable[str] | None = None,
    full: bool = False,
) -> StudyTables:
    """Collect the study's results into Parquet in the store and return them as DataFrames."""
    index = _done_jobs(fs, info.shard_count, len(entries))
    done = {job: token for job, (token, _) in index.items()}
    legacy = _legacy_series(fs)
    if legacy:  # written by an older epcloud: everything is collected again in the partitioned layout
        log.info("%d series files of the old layout: collecting everything again", len(legacy))
    previous = {} if full or legacy else _read_state(fs)
    old_jobs = _read_parquet(fs, layout.JOBS_TABLE) if previous else None
    if old_jobs is None:
        previous = {}
    series_vars = _variables_of(info, variables)
    wanted = {v.lower() for v in series_vars}
    param_names = sorted({name for entry in entries for name in entry.parameters})

    changed = [e for e in entries if e.id in done and previous.get(e.id) != done[e.id]]
    changed.sort(key=lambda e: (e.shard, e.index))
    touched_shards = {e.shard for e in changed} | {
        e.shard for e in entries if e.id in previous and e.id not in done
    }
    if not previous:  # a first or full collect rewrites every partition
        touched_shards = set(range(info.shard_count))
    # The rows of the old table kept as they are (their summary is unchanged), by position in it.
    kept: dict[str, int] = {}
    if old_jobs is not None:
        position = {job: i for i, job in enumerate(old_jobs.column("job_id").to_pylist())}
        for entry in entries:
            if entry.id in done and previous.get(entry.id) == done[entry.id] and entry.id in position:
                kept[entry.id] = position[entry.id]
    summaries: dict[str, _Cells] = {}

    groups: dict[int, list[JobEntry]] = {}
    for entry in changed:
        groups.setdefault(entry.shard, []).append(entry)
    by_shard: dict[int, list[JobEntry]] = {}
    if previous:  # each flush looks at its own shard's jobs, not at every job of the study
        for entry in entries:
            by_shard.setdefault(entry.shard, []).append(entry)

    def dropped(shard: int) -> set[str] | None:
        return _dropped(by_shard.get(shard, []), done, previous)

    read = _shard_reader(fs, index, _digests(fs) if changed else {})
    buffer, current = _SeriesBuffer(wanted), None
    with cf.ThreadPoolExecutor(max_workers=_READ_THREADS, thread_name_prefix="epcloud-collect") as pool:
        for shard_jobs in _bounded_map(pool, read, groups.values(), _WINDOW):
            for entry, summary in shard_jobs:
                if current is not None and entry.shard != current:
                    _flush_shard(fs, current, buffer, series_vars, dropped(current))
                    buffer = _SeriesBuffer(wanted)
                current = entry.shard
                buffer.add(entry.id, summary)
                summaries[entry.id] = _table_cells(summary)
                if summary.get("missing_variables"):
                    log.warning(
                        "job %s (%s): EnergyPlus did not report the requested %s",
                        entry.id,
                        entry.label,
                        ", ".join(summary["missing_variables"]),
                    )
    if current is not None:
        _flush_shard(fs, current, buffer, series_vars, dropped(current))
    for shard in sorted(touched_shards - {e.shard for e in changed}):
        _flush_shard(fs, shard, _SeriesBuffer(wanted), series_vars, dropped(shard))

    if series_vars:
        _write_series_metadata(fs)
    for path in legacy:  # their rows are in the new partitions now
        fs.remove(path)
    table = _jobs_frame(entries, summaries, old_jobs, kept, param_names)
    sink = io.BytesIO()
    table.to_parquet(sink, index=False)
    fs.write_bytes(layout.JOBS_TABLE, sink.getvalue())
    fs.write_text(layout.COLLECT_STATE, json.dumps({"format": _STATE_FORMAT, "summaries": done}))
    log.info(
        "collected %d done jobs of %d (%d summaries read) into %s",
        len(done),
        len(entries),
        len(changed),
        fs.url(layout.JOBS_TABLE),
    )
    series = _read_series(fs, info, series_vars) if series_vars else None
    return StudyTables(table, series, len(changed), info.metadata.get("sweep"))


def _dropped(
    shard_entries: Sequence[JobEntry], done: dict[str, str], previous: dict[str, str]
) -> set[str] | None:
    """Jobs of a shard whose old series rows go (re-read now, or no longer done); None: all of them."""
    if not previous:
        return None
    return {
        e.id for e in shard_entries if e.id in previous and (e.id not in done or previous[e.id] != done[e.id])
    }


_Cells = tuple[tuple[Any, ...], dict[str, Any], "str | None"]
"""What the jobs table keeps of a summary: its `JOB_COLUMNS` cells, its values, its missing variables."""


def _table_cells(summary: dict[str, Any]) -> _Cells:
    """The table's cells of a summary, without its series. Tuples and a dict of numbers, which Python's
    cyclic GC stops tracking: holding 100,000 summaries (dicts holding lists) instead doubled the time
    its full collections took."""
    missing = summary.get("missing_variables")
    return (
        tuple(map(summary.get, JOB_COLUMNS[4:])),
        summary["values"],
        ", ".join(missing) if missing else None,
    )


def _jobs_frame(
    entries: Sequence[JobEntry],
    summaries: dict[str, _Cells],
    old: pa.Table | None,
    kept: dict[str, int],
    params: list[str],
) -> pd.DataFrame:
    """One row per job, built a column at a time: the summaries just read, the rows ``kept`` from the
    ``old`` table (by position), and pending rows for the rest."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    ordered = sorted(entries, key=lambda e: e.index)
    new_at = [i for i, e in enumerate(ordered) if e.id in summaries]
    new = [summaries[ordered[i].id] for i in new_at]
    kept_pairs = [(i, kept[e.id]) for i, e in enumerate(ordered) if e.id in kept]
    kept_at = [i for i, _ in kept_pairs]
    kept_rows = pa.array([j for _, j in kept_pairs], type=pa.int64())
    old_names = set(old.column_names) if old is not None and kept_pairs else set()

    def old_cells(name: str) -> list[Any]:
        assert old is not None
        cells: list[Any] = old.column(name).take(kept_rows).to_pylist()
        return cells

    columns: dict[str, Any] = {
        "job_id": [e.id for e in ordered],
        "index": [e.index for e in ordered],
        "shard": [e.shard for e in ordered],
        "label": pd.array([e.label for e in ordered], dtype="string"),
    }
    for name in params:  # typed: pandas infers Float64 / Int64 / string / boolean from the values
        columns[_param_column(name)] = pd.array([e.parameters.get(name) for e in ordered])
    nan = float("nan")
    # Cells read row by row (one pass over each summary), then split into columns: a pass over
    # 100,000 summaries per column costs several times more.
    new_cells = list(zip(*(cells for cells, _, _ in new), strict=True))
    for k, name in enumerate(JOB_COLUMNS[4:]):
        cells: list[Any] = [None] * len(ordered)
        if name == "status":
            cells = ["pending"] * len(ordered)
        if name in old_names:
            for i, cell in zip(kept_at, old_cells(name), strict=True):
                cells[i] = cell
        if new:
            for i, cell in zip(new_at, new_cells[k], strict=True):
                cells[i] = cell
        kind: Any = "float64" if name == "runtime_seconds" else _COLUMN_TYPES[name]  # a pandas dtype name
        if kind == "float64":
            cells = [nan if c is None else c for c in cells]
        columns[name] = pd.array(cells, dtype=kind)
    missing: list[Any] = [None] * len(ordered)
    if MISSING_COLUMN in old_names:
        for i, cell in zip(kept_at, old_cells(MISSING_COLUMN), strict=True):
            missing[i] = cell
    for i, (_, _, noted) in zip(new_at, new, strict=True):
        if noted:
            missing[i] = noted
    if any(missing):
        columns[MISSING_COLUMN] = pd.array(missing, dtype="string")

    # Value columns: every name a summary read has (a null value too), every old column a kept row
    # has a number in, and the columns every summary has (they keep their place even when all null).
    fixed = set(columns) | set(JOB_COLUMNS) | {MISSING_COLUMN}
    value_names = set(ALWAYS_VALUES)
    for _, found, _ in new:
        value_names.update(found)
    old_values: dict[str, Any] = {}
    for name in old_names - fixed:
        assert old is not None
        taken = old.column(name).take(kept_rows).cast(pa.float64())
        numbers = np.asarray(taken.to_numpy(zero_copy_only=False), dtype="float64")
        if not np.isnan(numbers).all():
            old_values[name] = numbers
            value_names.add(name)
    names = sorted(value_names - fixed)
    kept_index = np.asarray(kept_at, dtype=np.int64)
    new_index = np.asarray(new_at, dtype=np.int64)
    # None (a value a job lacks, or null) becomes NaN
    new_values = np.array([list(map(found.get, names)) for _, found, _ in new], dtype="float64")
    for k, name in enumerate(names):
        values = np.full(len(ordered), nan)
        if name in old_values:
            values[kept_index] = old_values[name]
        if new:
            values[new_index] = new_values[:, k]
        columns[name] = values
    table: pd.DataFrame = pd.DataFrame(columns)
    return table


def _read_series(fs: FileSystem, info: StudyInfo, variables: Sequence[str]) -> pd.DataFrame:
    """Every series partition of the asked variables, as one long DataFrame."""
    import pyarrow as pa

    tables = []
    for variable in variables:
        for item in fs.list_files(layout.timeseries_folder(variable)):
            table = _read_parquet(fs, item.path)
            if table is not None:
                tables.append(table)
    joined = pa.concat_tables(tables) if tables else _SeriesBuffer(None).table("")
    frame = joined.to_pandas().rename(columns={"variable_name": "variable"})
    ordered: pd.DataFrame = frame.sort_values(["job_id", "variable", "key", "timestamp"], ignore_index=True)
    return ordered

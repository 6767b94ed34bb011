"""`epcloud study create|run|worker|status|collect|rerun`; `epcloud worker|status|collect|rerun` for short."""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from epcloud.errors import UsageError, WorkerInterrupted
from epcloud.study import ShardReport, Study

_SIGTERM_EXIT = 143  # 128 + SIGTERM, what schedulers expect of a process stopped by SIGTERM


def _at_least_one(text: str) -> int:
    """An argparse type: a whole number >= 1 (so `-j -1` is a usage error, not a traceback)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seconds(text: str) -> float:
    """An argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    study = subparsers.add_parser(
        "study",
        help="create, run and collect a study in a store (the cloud workflow)",
        description="Step 1 `create` writes jobs to a store; step 2 `worker` runs one shard on each "
        "array child (or `run` runs all here); step 3 `collect` writes Parquet tables.",
    )
    commands = study.add_subparsers(dest="study_command", metavar="COMMAND", required=True)
    _add_create(commands)
    _add_run(commands)
    for name, adder in (("worker", _add_worker), ("status", _add_status), ("collect", _add_collect)):
        adder(commands, name)
        adder(subparsers, name)
    _add_rerun(commands, "rerun")
    _add_rerun(subparsers, "rerun")


def _store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="the study's location: s3://bucket/prefix or a folder")


def _add_create(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "create",
        help="write a study to a store",
        description="Write every model and weather file once, per-shard manifests and study.json.",
    )
    _store(parser)
    parser.add_argument(
        "source", nargs="?", help="folder of .idf/.epJSON models, or a Shoebox sweep table (.json/.csv)"
    )
    parser.add_argument("--sweep", help="a sweep file (.yaml/.json): model, weather, parameters, sampling")
    parser.add_argument("--jobs", help="a JSON file of jobs (a list of SimulationJob.to_dict() objects)")
    parser.add_argument(
        "--pilot",
        action="store_true",
        help="first run one job's design days here; refuse to create the study if it fails",
    )
    parser.add_argument("-w", "--weather", action="append", default=[], help="weather file (repeatable)")
    period = parser.add_mutually_exclusive_group()
    period.add_argument("--annual", action="store_true", help="force annual simulations")
    period.add_argument("--design-day", action="store_true", help="simulate the design days only")
    shards = parser.add_mutually_exclusive_group()
    shards.add_argument("--shard-size", type=int, help="jobs per shard (default 50)")
    shards.add_argument("--shards", type=int, help="number of shards (= array size)")
    parser.add_argument("--variable", action="append", default=[], help="series every summary keeps")
    parser.add_argument("--metadata", action="append", default=[], metavar="KEY=VALUE", help="provenance")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds before a run is stopped")
    parser.add_argument(
        "--upload",
        nargs="*",
        metavar="PATTERN",
        help="the outputs each job stores (default: the standard set; 'all' for every file; none given: "
        "only the summary and run-status.json)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing study (deletes results)"
    )
    parser.add_argument("--json", action="store_true", help="print the study file as JSON")
    parser.set_defaults(func=_create)


def _add_run(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("run", help="run every pending job of a study on this machine")
    _store(parser)
    parser.add_argument(
        "-j", "--max-workers", type=_at_least_one, help="simulations at once (default: usable CPUs)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=_run)


def _add_worker(commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str) -> None:
    parser = commands.add_parser(
        name,
        help="run this array child's shard of a study",
        description="The index comes from --index or AWS_BATCH_JOB_ARRAY_INDEX, JOB_COMPLETION_INDEX, "
        "SLURM_ARRAY_TASK_ID. Done jobs are skipped; SIGTERM leaves unfinished jobs pending.",
    )
    _store(parser)
    parser.add_argument("--index", type=int, help="this worker's index (default: from the environment)")
    parser.add_argument(
        "--count", type=_at_least_one, help="number of workers, any size (default: the study's shards)"
    )
    parser.add_argument(
        "--steal",
        action="store_true",
        help="then run the pending jobs of dead shards (S3 conditional leases)",
    )
    parser.add_argument(
        "--heartbeat",
        type=_seconds,
        metavar="SECONDS",
        help="renew job leases this often; stale after 4 missed (default: $EPCLOUD_HEARTBEAT_SECONDS or 30)",
    )
    parser.add_argument(
        "-j", "--max-workers", type=_at_least_one, help="simulations at once (default: usable CPUs)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=_worker)


def _add_status(commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str) -> None:
    parser = commands.add_parser(
        name,
        help="how many jobs are done, failed, running, pending",
        description="Count a study's jobs by state from one listing of the store; --watch refreshes "
        "a progress bar until every job has finished.",
    )
    _store(parser)
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    parser.add_argument(
        "--watch", nargs="?", type=float, const=10.0, metavar="SECONDS", help="refresh until all are done"
    )
    parser.set_defaults(func=_status)


def _add_collect(commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str) -> None:
    parser = commands.add_parser(
        name,
        help="collect results into jobs.parquet and timeseries/",
        description="Read every finished job's summary (only the new ones unless --full) into "
        "jobs.parquet and timeseries/ in the study's store. Needs the tables extra.",
    )
    _store(parser)
    parser.add_argument("--variable", action="append", help="only these requested series (repeatable)")
    parser.add_argument("--full", action="store_true", help="read every summary, not only new ones")
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    parser.set_defaults(func=_collect)


def _add_rerun(commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str) -> None:
    parser = commands.add_parser(
        name,
        help="make failed or missing jobs pending again",
        description="Delete the results of failed jobs (--failed) and/or select jobs with no result "
        "(--missing) so workers run them again; --run runs them here now.",
    )
    _store(parser)
    parser.add_argument("--failed", action="store_true", help="jobs whose run failed")
    parser.add_argument("--missing", action="store_true", help="jobs with no result yet")
    parser.add_argument("--run", action="store_true", help="run them here now instead of by workers")
    parser.add_argument("-j", "--max-workers", type=_at_least_one, help="simulations at once with --run")
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    parser.set_defaults(func=_rerun)


def _metadata(pairs: list[str]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--metadata expects KEY=VALUE, got {pair!r}", parameter="metadata")
        found[key] = value
    return found


def _jobs(args: argparse.Namespace) -> tuple[list[Any], list[dict[str, Any]]]:
    from epcloud.batch import SimulationJob
    from epcloud.cli.batch import _folder_models, _sweep_models, _sweep_rows
    from epcloud.cli.inputs import resolve_weathers

    source = Path(args.source)
    if not source.exists():
        raise UsageError(f"{source} does not exist; give a folder of .idf/.epJSON models or a sweep file")
    if source.is_dir():
        models, rows = _folder_models(source), None
    else:
        models, rows = _sweep_models(source), _sweep_rows(source)
    weathers: list[str | None] = resolve_weathers(args.weather, quiet=args.json) or [None]
    jobs, params = [], []
    for index, (label, model) in enumerate(models):
        for weather in weathers:
            name = f"{label}@{Path(weather).stem}" if weather and len(weathers) > 1 else label
            jobs.append(
                SimulationJob(
                    model,
                    weather,
                    label=name,
                    annual=args.annual,
                    design_day=args.design_day,
                    timeout=args.timeout,
                )
            )
            row = {k: v for k, v in (rows[index] if rows else {}).items() if k != "label"}
            params.append({**row, "weather": Path(weather).name} if len(weathers) > 1 and weather else row)
    return jobs, params


def _json_jobs(path: Path) -> list[Any]:
    from epcloud.batch import SimulationJob

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"--jobs {path}: cannot be read ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"--jobs {path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ValueError(f"--jobs {path}: expected a JSON list of job objects (SimulationJob.to_dict())")
    jobs = []
    for index, item in enumerate(data):
        try:
            jobs.append(SimulationJob.from_dict(item))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"--jobs {path}: job {index}: {exc}") from None
    return jobs


def _create(args: argparse.Namespace) -> int:
    from epcloud.study import Sweep

    metadata = _metadata(args.metadata)  # bad input is refused before any model is built
    given = [name for name in ("source", "sweep", "jobs") if getattr(args, name)]
    swallowed = [p for p in args.upload or () if not given and Path(p).exists()]
    if swallowed:  # `--upload '*.sql' models/`: the folder was read as one more pattern
        raise UsageError(
            f"epcloud study create: --upload took {swallowed[0]} as a file pattern; put SOURCE before "
            "--upload (epcloud study create STORE SOURCE --upload PATTERN...)"
        )
    if len(given) != 1:
        raise UsageError(
            "epcloud study create: give one of SOURCE (a folder of models), --sweep FILE or --jobs FILE"
        )
    common: dict[str, Any] = dict(
        overwrite=args.overwrite,
        metadata=metadata,
        shard_size=args.shard_size,
        shard_count=args.shards,
        variables=args.variable,
        pilot=args.pilot,
        upload=None if args.upload is None else ("all" if args.upload == ["all"] else args.upload),
    )
    if args.sweep or args.jobs:
        used = [
            flag
            for flag, on in (
                ("-w", args.weather),
                ("--annual", args.annual),
                ("--design-day", args.design_day),
            )
            if on
        ]
        if used:
            where = "the sweep file" if args.sweep else "each job of the JSON file"
            raise UsageError(f"epcloud study create: {', '.join(used)} is set by {where}; remove it")
    if args.sweep:
        sweep = Sweep.from_file(args.sweep)
        with _working(f"writing the sweep {args.sweep} to {args.store}", args.json):
            study = Study.create(args.store, sweep, **common)
    else:
        if args.jobs:
            try:
                jobs, params = _json_jobs(Path(args.jobs)), None
            except ValueError as exc:
                raise UsageError(f"epcloud study create: {exc}") from None
        else:
            if Path(args.source).suffix.lower() in (".yaml", ".yml"):
                raise UsageError(
                    f"epcloud study create: {args.source} looks like a sweep file; use --sweep {args.source}"
                )
            if not Path(args.source).exists():
                raise UsageError(
                    f"{args.source} does not exist: give a folder of .idf/.epJSON models, a Shoebox table "
                    "(.json/.csv), --sweep FILE or --jobs FILE"
                )
            try:
                jobs, params = _jobs(args)
            except (ValueError, TypeError, OSError) as exc:  # the table's own message: file, row, field
                raise UsageError(str(exc)) from exc
        with _working(f"writing {len(jobs)} jobs to {args.store}", args.json):
            study = Study.create(args.store, jobs, parameters=params, **common)
    if args.json:
        print(study.info.to_json())
    else:
        Console().print(
            f"created {escape(study.url)}: {study.info.job_count} jobs in {study.info.shard_count} shards "
            f"(array size {study.info.shard_count})",
            highlight=False,
            soft_wrap=True,
        )
    return 0


def _working(what: str, quiet: bool) -> Any:
    """A spinner saying what is being done (on a terminal's stderr; nothing with --json or when piped)."""

    from epcloud.cli.output import err

    console = err()
    if quiet or not console.is_terminal:
        return contextlib.nullcontext()
    return console.status(escape(what) + " ...")


def _report(report: ShardReport, as_json: bool, url: str) -> None:
    data = {
        "shards": list(report.shards),
        "succeeded": report.succeeded,
        "failed": report.failed,
        "skipped": report.skipped,
        "pending": report.pending,
        "stolen": report.stolen,
        "wall_seconds": round(report.wall_seconds, 2),
        "store": url,
    }
    if as_json:
        print(json.dumps(data))
    else:
        Console().print(
            f"{report.succeeded} succeeded, {report.failed} failed, {report.skipped} already done "
            f"in {report.wall_seconds:.1f} s; results in {escape(url)} (`epcloud collect` gathers them)",
            highlight=False,
            soft_wrap=True,
        )


def _run(args: argparse.Namespace) -> int:
    study = Study.open(args.store)
    report = study.run(max_workers=args.max_workers, progress=None if args.json else "rich")
    _report(report, args.json, study.url)
    return 0 if report.failed == 0 else 1


def _worker(args: argparse.Namespace) -> int:
    from epcloud.study.worker import stop_on_signals

    study = Study.open(args.store)
    with stop_on_signals() as stop:
        try:
            report = study.run_shard(
                args.index,
                args.count,
                max_workers=args.max_workers,
                stop=stop,
                steal=args.steal,
                progress=None if args.json else "rich",
                heartbeat=args.heartbeat,
            )
        except WorkerInterrupted as exc:
            message = f"[yellow]stopped:[/] {escape(str(exc))}"
            Console(stderr=True).print(message, highlight=False, soft_wrap=True)
            return _SIGTERM_EXIT
    _report(report, args.json, study.url)
    return 0 if report.failed == 0 else 1


def _jobs_lack(count: int) -> str:
    return "1 job lacks" if count == 1 else f"{count} jobs lack"


def _missing_variables(study: Study, jobs: list[str]) -> dict[str, Any]:
    """The first noted job lacking requested series: its label and the names (one read, not one a job)."""
    from epcloud.study.study_status import missing_note

    for job in jobs[:3]:
        note = missing_note(study.fs, job)
        if note is not None:
            label = note.get("label") or job
            return {
                "example": f"{job} ({label})" if label != job else job,
                "names": note["missing_variables"],
            }
    return {}


def _status(args: argparse.Namespace) -> int:
    study = Study.open(args.store)
    status = study.status()
    if args.watch and not args.json:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        from epcloud.cli.output import err

        with Progress(*columns, console=err()) as bar:
            task = bar.add_task("done", total=status.total)
            while True:
                counts = status.to_dict()
                bar.update(
                    task,
                    completed=counts["succeeded"] + counts["failed"],
                    description=f"{counts['failed']} failed, {counts['running']} running",
                )
                if status.finished:
                    break
                time.sleep(args.watch)
                status = study.status()
    counts = status.to_dict()
    sweep = study.info.metadata.get("sweep")
    missing = _missing_variables(study, status.missing_variables)
    if args.json:
        if sweep:
            counts = {**counts, "parameters": [p["name"] for p in sweep.get("parameters", ())]}
        if missing:
            counts = {**counts, "missing_variables": {"jobs": len(status.missing_variables), **missing}}
        print(json.dumps(counts))
    else:
        stale = (
            f" ({len(status.stale)} of them stale: leases of workers taken for dead, which a stealer "
            "or the next worker takes over)"
            if status.stale
            else ""
        )
        Console().print(
            f"{escape(study.url)}: {counts['total']} jobs: {counts['succeeded']} succeeded, "
            f"{counts['failed']} failed, {counts['running']} running, {counts['pending']} pending{stale}",
            highlight=False,
            soft_wrap=True,
        )
        if missing:
            Console(stderr=True).print(
                f"[yellow]{_jobs_lack(len(status.missing_variables))} requested series[/], e.g. "
                f"{escape(missing['example'])}: EnergyPlus did not report "
                f"{escape(', '.join(missing['names']))}"
                " (check the names against the model's .rdd/.mdd files; collect's missing_variables column "
                "lists every job)",
                highlight=False,
                soft_wrap=True,
            )
        if sweep:
            Console().print(_sweep_line(sweep), highlight=False, soft_wrap=True)
    return 0


def _sweep_line(sweep: dict[str, Any]) -> str:
    """One line describing a sweep study's parameters and design."""
    from epcloud.study.sweep import describe_record

    return escape(describe_record(sweep))


def _collect(args: argparse.Namespace) -> int:
    study = Study.open(args.store)
    with _working(f"collecting the results of {study.info.job_count} jobs", args.json):
        tables = study.collect(args.variable, full=args.full)
    counts = tables.jobs["status"].value_counts().to_dict()
    where = study.fs.url("jobs.parquet")
    data = {
        "jobs": len(tables.jobs),
        "read": tables.read,
        "status": {str(k): int(v) for k, v in counts.items()},
        "jobs_table": where,
        "timeseries_rows": 0 if tables.timeseries is None else len(tables.timeseries),
    }
    if args.json:
        print(json.dumps(data))
    else:
        Console().print(
            f"collected {data['jobs']} jobs ({tables.read} new results read) into {escape(where)}",
            highlight=False,
            soft_wrap=True,
        )
    return 0


def _rerun(args: argparse.Namespace) -> int:
    if not args.failed and not args.missing:
        raise UsageError("epcloud rerun: choose --failed and/or --missing (see epcloud rerun --help)")
    study = Study.open(args.store)
    report = study.rerun(failed=args.failed, missing=args.missing, run=args.run, max_workers=args.max_workers)
    if args.json:
        print(json.dumps({"selected": report.selected, "cleared": report.cleared}))
    else:
        Console().print(
            f"{len(report.selected)} jobs selected, {len(report.cleared)} results cleared", highlight=False
        )
    if report.ran is not None:
        _report(report.ran, args.json, study.url)
    return 0

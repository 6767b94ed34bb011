"""`epcloud batch SOURCE -w WEATHER...`: a folder of models or a parameter sweep, against each weather."""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from epcloud.batch import BatchResult, SimulationJob, simulate_batch
from epcloud.cli.errors import cli_words
from epcloud.cli.inputs import resolve_weathers
from epcloud.cli.output import print_jsonl
from epcloud.cli.run import add_job_options
from epcloud.errors import UsageError

_MODEL_SUFFIXES = (".idf", ".epjson")
_SWEEP_SUFFIXES = (".json", ".csv")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "batch",
        help="run many simulations in parallel",
        description="Run every model of a folder, or every row of a shoebox parameter sweep (.json/.csv), "
        "against each weather file, one EnergyPlus process per core.",
    )
    parser.add_argument(
        "source",
        nargs="?",
        help="folder of .idf/.epJSON models, or a table (.json/.csv) of Shoebox parameters",
    )
    parser.add_argument("--sweep", help="a sweep file (.yaml/.json): model, weather, parameters, sampling")
    parser.add_argument(
        "-w",
        "--weather",
        action="append",
        default=[],
        help="weather file, bundled file name or station term such as chicago (repeatable)",
    )
    parser.add_argument(
        "-o", "--output", help="folder or store URL such as s3://bucket/prefix (default: ./batch-<source>)"
    )
    period = parser.add_mutually_exclusive_group()
    period.add_argument("--annual", action="store_true", help="force annual simulations")
    period.add_argument("--design-day", action="store_true", help="simulate the design days only")
    parser.add_argument("-j", "--max-workers", type=int, help="simulations at once (default: usable CPUs)")
    parser.add_argument("--cache", help="simulation cache: a folder or a store URL; hits skip EnergyPlus")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds before a run is stopped")
    add_job_options(parser)
    parser.add_argument("--energyplus", help="EnergyPlus executable or installation folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object per job, no progress bar")
    parser.set_defaults(func=_run)


def _number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def _sweep_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix.lower() == ".json":
        try:
            rows = json.loads(path.read_text("utf-8"))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            hint = (
                " (a sweep file with model/parameters/sampling is read with --sweep)"
                if isinstance(rows, dict)
                else ""
            )
            raise UsageError(
                f"{path}: expected a JSON list of Shoebox parameter rows (one per simulation){hint}"
            )
        return rows
    with path.open(newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    cells = [{k.strip(): v for k, v in row.items() if v not in ("", None)} for row in table]
    rows = []
    for index, row in enumerate(cells, start=1):  # row 1 is the first data row (line 2 of the file)
        try:
            rows.append({k: v if k == "label" else _number(v) for k, v in row.items()})
        except ValueError:
            bad = next(k for k, v in row.items() if k != "label" and not _is_number(v))
            raise UsageError(
                f"{path} row {index} (line {index + 1}), column {bad}: {row[bad]!r} is not a number"
            ) from None
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _sweep_models(path: Path) -> list[tuple[str, str]]:
    """(label, IDF text) for each row of a Shoebox parameter sweep."""
    from epcloud.model import Shoebox

    known = {f.name for f in fields(Shoebox)}
    models = []
    for index, row in enumerate(_sweep_rows(path), start=1):  # row 1 is the first data row
        params = dict(row)
        label = str(params.pop("label", f"row-{index:04d}"))
        unknown = sorted(set(params) - known)
        if unknown:
            raise UsageError(f"{path} row {index}: unknown parameters {unknown}; Shoebox has {sorted(known)}")
        try:
            models.append((label, Shoebox(**params).to_idf()))
        except (TypeError, ValueError) as exc:
            said = str(exc).replace("Shoebox.", "column ")  # the file's words, not the API's
            raise UsageError(f"{path} row {index}: {said}") from exc
    return models


def _folder_models(path: Path) -> list[tuple[str, str]]:
    found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in _MODEL_SUFFIXES)
    if not found:
        raise UsageError(f"{path} holds no .idf or .epJSON models")
    return [(p.stem, str(p)) for p in found]


def _job_folder(source: Path, name: str, root: str | None) -> str:
    """The output folder of job ``name``: always inside the output root, locally as in a store."""
    parts = Path(name).parts
    unsafe = not parts or not name.strip() or Path(name).is_absolute() or "\\" in name
    if unsafe or any(part in ("..", ".") for part in parts):
        where = root if root is not None else "the output store"
        raise ValueError(
            f"{source}: label {name!r} would leave the output folder {where}; a label names a folder "
            "inside it (no '..', '.', '\\' or absolute paths)"
        )
    if root is None:
        return name
    folder = Path(root, name).resolve()
    if not folder.is_relative_to(Path(root).resolve()):  # a symlink inside the root pointing out
        raise ValueError(f"{source}: label {name!r} resolves to {folder}, outside the output folder {root}")
    return str(folder)


def build_jobs(args: argparse.Namespace, root: str | None) -> list[SimulationJob]:
    """One job per model and weather file; ``root`` is the local output folder (None for a store)."""
    if bool(args.source) == bool(getattr(args, "sweep", None)):
        raise ValueError("give either SOURCE (a folder of models or a Shoebox table) or --sweep FILE")
    if getattr(args, "sweep", None):
        from epcloud.study.sweep import Sweep

        used = [
            f
            for f, on in (("-w", args.weather), ("--annual", args.annual), ("--design-day", args.design_day))
            if on
        ]
        if used:
            raise ValueError(f"{', '.join(used)} is set by the sweep file {args.sweep}; remove it")
        return Sweep.from_file(args.sweep).jobs(output_dir=root if root is not None else "")
    source = Path(args.source)
    if source.is_dir():
        models = _folder_models(source)
    elif source.suffix.lower() in _SWEEP_SUFFIXES and source.is_file():
        models = _sweep_models(source)
    else:
        hint = "; read sweep files with --sweep FILE" if source.suffix.lower() in (".yaml", ".yml") else ""
        what = "does not exist" if not source.exists() else "is neither a folder of models nor a .json/.csv"
        raise UsageError(
            f"{source} {what}; give a folder of .idf/.epJSON models or a table (.csv/.json) of Shoebox "
            f"parameters{hint}"
        )
    weathers: list[str | None] = resolve_weathers(args.weather, args.energyplus, quiet=args.json) or [None]
    jobs = []
    for label, model in models:
        for weather in weathers:
            name = label if len(weathers) == 1 else f"{label}--{Path(str(weather)).stem}"
            jobs.append(
                SimulationJob(
                    model,
                    weather,
                    label=name,
                    output_dir=_job_folder(source, name, root),
                    annual=args.annual,
                    design_day=args.design_day,
                    timeout=args.timeout,
                    preprocessor_timeout=args.preprocessor_timeout,
                    output_suffix=args.output_suffix,
                )
            )
    return jobs


def _cache(location: str | None) -> Any:
    if not location:
        return None
    from epcloud.run.cache import SimulationCache

    if "://" in location:
        from epcloud.storage import open_fs

        return SimulationCache(fs=open_fs(location))
    return SimulationCache(location)


def _run(args: argparse.Namespace) -> int:
    console = Console()
    output = args.output or f"batch-{Path(args.source or args.sweep or 'sweep').stem}"
    fs = None
    root: str | None = str(Path(output).resolve())
    if "://" in output and not output.startswith("file://"):
        from epcloud.storage import open_fs

        fs, root = open_fs(output), None
    jobs = build_jobs(args, root)
    batch = simulate_batch(
        jobs,
        max_workers=args.max_workers,
        fs=fs,
        cache=_cache(args.cache),
        progress=None if args.json else "rich",
        energyplus=args.energyplus,
    )
    with batch:
        if args.json:
            for row in batch.rows():
                print_jsonl(row)
        else:
            print_failures(console, batch)
            console.print(f"outputs in {escape(fs.url() if fs is not None else str(root))}", soft_wrap=True)
    return 0 if batch.all_succeeded else 1


def print_failures(console: Console, batch: BatchResult, limit: int = 10) -> None:
    """A table of the failed jobs (the first ``limit``) with their first error."""
    failed = [row for row in batch.rows() if not row["success"]]
    if not failed:
        return
    table = Table("job", "error", title=f"{len(failed)} failed", title_justify="left")
    for row in failed[:limit]:
        error = cli_words(row["error"]) if row["error"] else row["fatal"] or "?"  # said in CLI words
        table.add_row(escape(row["label"] or str(row["index"])), escape(error))
    console.print(table)

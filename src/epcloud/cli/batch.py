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

_MODEL_SUFFIXES = (".idf", ".epjson")
_SWEEP_SUFFIXES = (".json", ".csv")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "batch",
        help="run many simulations in parallel",
        description="Run every model of a folder, or every row of a shoebox parameter sweep (.json/.csv), "
        "against each weather file, one EnergyPlus process per core.",
    )
    parser.add_argument("source", help="folder of .idf/.epJSON models, or a sweep file of Shoebox parameters")
    parser.add_argument("-w", "--weather", action="append", default=[], help="weather file (repeatable)")
    parser.add_argument(
        "-o", "--output", help="folder or store URL such as s3://bucket/prefix (default: ./batch-<source>)"
    )
    period = parser.add_mutually_exclusive_group()
    period.add_argument("--annual", action="store_true", help="force annual simulations")
    period.add_argument("--design-day", action="store_true", help="simulate the design days only")
    parser.add_argument("-j", "--max-workers", type=int, help="simulations at once (default: usable CPUs)")
    parser.add_argument("--cache", help="simulation cache: a folder or a store URL; hits skip EnergyPlus")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds before a run is stopped")
    parser.add_argument("--energyplus", help="EnergyPlus executable or installation folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object per job, no progress bar")
    parser.set_defaults(func=_run)


def _number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def _sweep_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix.lower() == ".json":
        rows = json.loads(path.read_text("utf-8"))
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ValueError(f"{path}: expected a JSON list of objects (one per simulation)")
        return rows
    with path.open(newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    cells = [{k.strip(): v for k, v in row.items() if v not in ("", None)} for row in table]
    return [{k: v if k == "label" else _number(v) for k, v in row.items()} for row in cells]


def _sweep_models(path: Path) -> list[tuple[str, str]]:
    """(label, IDF text) for each row of a Shoebox parameter sweep."""
    from epcloud.model import Shoebox

    known = {f.name for f in fields(Shoebox)}
    models = []
    for index, row in enumerate(_sweep_rows(path)):
        params = dict(row)
        label = str(params.pop("label", f"row-{index:04d}"))
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"{path} row {index}: unknown parameters {unknown}; Shoebox has {sorted(known)}")
        models.append((label, Shoebox(**params).to_idf()))
    return models


def _folder_models(path: Path) -> list[tuple[str, str]]:
    found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in _MODEL_SUFFIXES)
    if not found:
        raise ValueError(f"{path} holds no .idf or .epJSON models")
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
    source = Path(args.source)
    if source.is_dir():
        models = _folder_models(source)
    elif source.suffix.lower() in _SWEEP_SUFFIXES and source.is_file():
        models = _sweep_models(source)
    else:
        raise ValueError(f"{source} is neither a folder of models nor a .json/.csv sweep file")
    weathers: list[str | None] = list(args.weather) or [None]
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
    output = args.output or f"batch-{Path(args.source).stem}"
    fs = None
    root: str | None = str(Path(output).resolve())
    if "://" in output and not output.startswith("file://"):
        from epcloud.storage import open_fs

        fs, root = open_fs(output), None
    try:
        jobs = build_jobs(args, root)
    except (ValueError, TypeError, OSError) as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
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
                print(json.dumps(row))
        else:
            print_failures(console, batch)
    return 0 if batch.all_succeeded else 1


def print_failures(console: Console, batch: BatchResult, limit: int = 10) -> None:
    """A table of the failed jobs (the first ``limit``) with their first error."""
    failed = [row for row in batch.rows() if not row["success"]]
    if not failed:
        return
    table = Table("job", "error", title=f"{len(failed)} failed", title_justify="left")
    for row in failed[:limit]:
        table.add_row(escape(row["label"] or str(row["index"])), escape(row["error"] or row["fatal"] or "?"))
    console.print(table)

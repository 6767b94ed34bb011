"""`epcloud demo`: a small real parametric study, run end to end with nothing but the package."""

from __future__ import annotations

import argparse
import contextlib
import csv
import time
from dataclasses import asdict
from pathlib import Path

from rich.table import Table

from epcloud.cli.output import err, out, print_json
from epcloud.demo_study import DemoRow, demo_variants, run_demo
from epcloud.errors import UsageError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the demo parametric study",
        description="Run six variants of a shoebox office (wall insulation x glazing) in Chicago with the "
        "bundled EnergyPlus and weather, and print their annual energy.",
    )
    parser.add_argument(
        "-o", "--output-dir", default="epcloud-demo", help="where the runs go (default: %(default)s)"
    )
    parser.add_argument(
        "--force", action="store_true", help="run into a folder that already holds other results"
    )
    parser.add_argument(
        "--design-day", action="store_true", help="design days only (faster, less meaningful)"
    )
    parser.add_argument("-j", "--jobs", type=int, default=None, help="parallel runs (default: all CPUs)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(func=_demo)


def _refuse_other_results(folder: Path, force: bool) -> None:
    """Refuse a folder holding anything but an earlier demo's outputs, unless ``force``."""
    if force or not folder.exists():
        return
    if not folder.is_dir():
        raise UsageError(f"-o {folder} is a file, not a folder; choose another --output-dir")
    ours = {*demo_variants(), "summary.csv"}
    others = sorted(p.name for p in folder.iterdir() if p.name not in ours)
    if others:
        shown = ", ".join(others[:5]) + (" ..." if len(others) > 5 else "")
        raise UsageError(
            f"{folder} already holds other files ({shown}); nothing was run. Choose another folder with "
            "-o, or pass --force to run the demo there anyway (its six run folders are replaced)"
        )


def _demo(args: argparse.Namespace) -> int:
    _refuse_other_results(Path(args.output_dir), args.force)
    progress = err()
    period = "design days" if args.design_day else "a full year"
    if not args.json:
        progress.print(
            f"Simulating 6 shoebox variants over {period} in Chicago into [bold]{args.output_dir}/[/] ..."
        )
    start = time.perf_counter()

    def done(row: DemoRow) -> None:
        if not args.json:
            progress.print(f"  done {row.label} ({row.runtime_seconds:.1f} s)")

    with progress.status("running EnergyPlus") if not args.json else contextlib.nullcontext():
        rows = run_demo(args.output_dir, design_day=args.design_day, max_workers=args.jobs, on_done=done)
    elapsed = time.perf_counter() - start
    summary = Path(args.output_dir) / "summary.csv"
    _write_csv(summary, rows)
    failed = sum(not row.success for row in rows)
    if args.json:
        print_json(
            {
                "rows": [asdict(row) for row in rows],
                "succeeded": len(rows) - failed,
                "failed": failed,
                "output_dir": str(Path(args.output_dir).resolve()),
                "summary_csv": str(summary.resolve()),
            },
            indent=2,
        )
        return 1 if failed else 0
    console = out()
    console.print(_table(rows))
    console.print(f"{len(rows) - failed} succeeded, {failed} failed in {elapsed:.1f} s; table in {summary}")
    return 1 if failed else 0


def _table(rows: list[DemoRow]) -> Table:
    table = Table(title="Shoebox office, Chicago O'Hare TMY3 - site energy (GJ)")
    for column in ("variant", "wall R", "WWR", "heating", "cooling", "electricity", "runtime s"):
        table.add_column(column, justify="left" if column == "variant" else "right")
    for row in rows:
        table.add_row(
            row.label,
            f"{row.wall_r:g}",
            f"{row.window_to_wall:.0%}",
            f"{row.heating_gj:.2f}",
            f"{row.cooling_gj:.2f}",
            f"{row.electricity_gj:.2f}",
            f"{row.runtime_seconds:.1f}",
        )
    return table


def _write_csv(path: Path, rows: list[DemoRow]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(asdict(rows[0])))
        writer.writeheader()
        for row in rows:
            writer.writerow(asdict(row))

"""`epcloud run MODEL -w WEATHER`: one simulation, a one-screen summary."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from epcloud.results.simulation_result import SimulationResult, output_name
from epcloud.run.simulate import simulate


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="run one simulation", description="Run one EnergyPlus simulation and summarise it."
    )
    parser.add_argument("model", help="model file (.idf or .epJSON)")
    parser.add_argument("-w", "--weather", help="weather file (.epw); optional with --design-day")
    parser.add_argument(
        "-o",
        "--output-dir",
        help="folder for the outputs, or a store URL such as s3://bucket/prefix/run-001 "
        "(default: ./run-<model>)",
    )
    period = parser.add_mutually_exclusive_group()
    period.add_argument("--annual", action="store_true", help="force an annual simulation")
    period.add_argument("--design-day", action="store_true", help="simulate the design days only")
    parser.add_argument("--no-expand-objects", action="store_true", help="never run ExpandObjects")
    parser.add_argument("--readvars", action="store_true", help="also write CSV outputs (ReadVarsESO)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds before the run is stopped")
    parser.add_argument("--energyplus", help="EnergyPlus executable or installation folder")
    parser.add_argument("--json", action="store_true", help="print the run status as JSON")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from pathlib import Path

    output_dir = args.output_dir or f"run-{Path(args.model).stem}"
    fs = None
    if "://" in output_dir and not output_dir.startswith("file://"):
        from epcloud.storage import open_fs

        store_url, _, output_dir = output_dir.rstrip("/").rpartition("/")
        fs = open_fs(store_url)
    result = simulate(
        args.model,
        args.weather,
        output_dir=output_dir,
        fs=fs,
        energyplus=args.energyplus,
        expand_objects=not args.no_expand_objects,
        annual=args.annual,
        design_day=args.design_day,
        readvars=args.readvars,
        timeout=args.timeout,
    )
    if args.json:
        assert result.status is not None
        print(result.status.to_json())
    else:
        print_summary(Console(), result)
    return 0 if result.success else 1


def print_summary(console: Console, result: SimulationResult) -> None:
    """The one-screen summary of a run."""
    report = result.errors
    verdict = "[bold green]success[/]" if result.success else "[bold red]FAILED[/]"
    if result.timed_out:
        verdict = "[bold red]TIMED OUT[/]"
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row("Result", verdict)
    table.add_row("Runtime", f"{result.runtime_seconds:.2f} s")
    table.add_row("Warnings", str(report.warning_count))
    table.add_row("Severe errors", str(report.severe_count))
    if result.status is not None:
        table.add_row("EnergyPlus", escape(result.status.energyplus_version))
    table.add_row("Outputs", escape(result.location))
    for kind in ("sql", "err", "html", "csv"):
        if result.has(kind):
            table.add_row(f"  {kind}", escape(output_name(kind, result.output_prefix)))
    console.print(table)
    for message in (*report.fatal, *report.severe)[:5]:
        console.print(f"[red]{message.severity}:[/] {escape(message.message)}")

"""`epcloud run MODEL -w WEATHER`: one simulation with live progress, then its headline results."""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from epcloud.cli.headline import Headline, grouped_warnings, read_headline
from epcloud.cli.inputs import check_model_and_weather, resolve_weather
from epcloud.cli.output import err, note, out, print_json
from epcloud.errors import EpcloudError
from epcloud.results.simulation_result import SimulationResult, output_name

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run one simulation",
        description="Run one EnergyPlus simulation with live progress, then print its headline results "
        "(site energy, EUI, unmet hours, end uses, warnings) and where the outputs are.",
    )
    parser.add_argument("model", help="model file (.idf or .epJSON); `epcloud example shoebox` writes one")
    parser.add_argument(
        "-w",
        "--weather",
        help="weather: an .epw path or URL, a bundled file's name, or a term matching one bundled station "
        "(-w chicago; see `epcloud weather bundled`); optional with --design-day",
    )
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
    parser.add_argument(
        "--reuse-dir",
        action="store_true",
        help="run in a non-empty -o folder that holds no epcloud run, leaving its files alone",
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds before the run is stopped")
    add_job_options(parser)
    parser.add_argument("--energyplus", metavar="PATH", help="EnergyPlus executable or installation folder")
    parser.add_argument(
        "--json", action="store_true", help="print the run status, output folder and results as JSON"
    )
    parser.set_defaults(func=_run)


def add_job_options(parser: argparse.ArgumentParser) -> None:
    """The options `epcloud run` and `epcloud batch` share with `SimulationJob` beyond the run period."""
    parser.add_argument(
        "--preprocessor-timeout",
        type=float,
        metavar="SECONDS",
        help="seconds ExpandObjects may take before it is stopped and the run fails without starting "
        "EnergyPlus (default: only --timeout applies)",
    )
    parser.add_argument(
        "--output-suffix",
        choices=("L", "C", "D"),
        default="L",
        type=str.upper,
        help="EnergyPlus's output names: L eplusout.sql, eplustbl.htm (default); C eplus.sql, "
        "eplusTable.htm; D eplus.sql, eplus-table.htm",
    )


def _run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from epcloud.progress import RichRunProgress
    from epcloud.run.simulate import simulate

    check_model_and_weather(args.model, args.weather)
    weather, picked = resolve_weather(args.weather, args.energyplus)
    if picked and not args.json:
        note(picked)
    output_dir = args.output_dir or f"run-{Path(args.model).stem}"
    fs = None
    if "://" in output_dir and not output_dir.startswith("file://"):
        from epcloud.storage import open_fs

        store_url, _, output_dir = output_dir.rstrip("/").rpartition("/")
        fs = open_fs(store_url)
    display = None if args.json else RichRunProgress(err())
    with display if display is not None else _Nothing():
        result = simulate(
            args.model,
            weather,
            output_dir=output_dir,
            fs=fs,
            energyplus=args.energyplus,
            expand_objects=not args.no_expand_objects,
            annual=args.annual,
            design_day=args.design_day,
            readvars=args.readvars,
            timeout=args.timeout,
            preprocessor_timeout=args.preprocessor_timeout,
            output_suffix=args.output_suffix,
            reuse_dir=args.reuse_dir,
            on_progress=display.on_event if display is not None else None,
        )
    headline = _headline(result) if fs is None else None  # never download a store's SQL back for this
    if args.json:
        assert result.status is not None
        data: dict[str, Any] = json.loads(result.status.to_json())
        data["output_dir"] = result.location
        data["results"] = headline.to_dict() if headline is not None else None
        data["warnings_by_message"] = [{"message": m, "count": n} for m, n in grouped_warnings(result.errors)]
        print_json(data, indent=2)
    else:
        print_summary(out(), result, headline)
    return 0 if result.success else 1


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _headline(result: SimulationResult) -> Headline | None:
    if not result.success or not result.has("sql"):
        return None
    try:
        return read_headline(result.sql)
    except EpcloudError as exc:  # the run is done; a report we cannot read only shortens the summary
        log.warning("headline results not read: %s", exc)
        return None


def _kwh(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:,.2f} MWh" if value >= 10_000 else f"{value:,.0f} kWh"


def print_summary(console: Console, result: SimulationResult, headline: Headline | None = None) -> None:
    """The one-screen summary of a run: verdict, headline results, grouped warnings, where the outputs are."""
    report = result.errors
    verdict = "[bold green]success[/]" if result.success else "[bold red]FAILED[/]"
    if result.timed_out:
        verdict = "[bold red]TIMED OUT[/]"
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row("Result", verdict)
    table.add_row("Runtime", f"{result.runtime_seconds:.2f} s")
    if result.status is not None:
        table.add_row("EnergyPlus", escape(result.status.energyplus_version))
    if headline is not None and not headline.site_energy_kwh and not headline.end_uses_kwh:
        table.add_row("Energy", "no annual totals (a design-day run reports none)")
    elif headline is not None:
        area = f" over {headline.floor_area_m2:,.0f} m²" if headline.floor_area_m2 else ""
        table.add_row("Site energy", _kwh(headline.site_energy_kwh))
        eui = "-" if headline.eui_kwh_m2 is None else f"{headline.eui_kwh_m2:,.1f} kWh/m²{area}"
        table.add_row("EUI", eui)
        heating, cooling = headline.unmet_heating_hours, headline.unmet_cooling_hours
        if heating is not None or cooling is not None:
            table.add_row("Unmet hours", f"heating {heating or 0:g} h, cooling {cooling or 0:g} h (occupied)")
    table.add_row("Warnings", str(report.warning_count))
    table.add_row("Severe errors", str(report.severe_count))
    console.print(table)
    if headline is not None and headline.end_uses_kwh:
        uses = Table("largest end uses", "fuel", "energy", box=None, pad_edge=False, header_style="bold")
        for use, fuel, kwh in headline.end_uses_kwh[:5]:
            uses.add_row(escape(use), escape(fuel), _kwh(kwh))
        console.print(uses)
    for message in (*report.fatal, *report.severe)[:5]:
        console.print(f"[red]{message.severity}:[/] {escape(message.message)}")
    groups = grouped_warnings(report)
    if groups:
        console.print("[bold]Warnings by message[/]")
        for text, count in groups[:8]:
            console.print(f"  {count:>4} x {escape(text)}")
        if len(groups) > 8:
            console.print(f"  ... and {len(groups) - 8} other messages")
    console.print(f"[bold]Outputs[/] {escape(result.location)}")
    kinds = [kind for kind in ("sql", "err", "html", "csv") if result.has(kind)]
    shown = [output_name(kind, result.output_prefix, result.output_suffix) for kind in kinds]
    if shown:
        console.print("  " + ", ".join(escape(name) for name in shown) + "; all warnings in the .err file")

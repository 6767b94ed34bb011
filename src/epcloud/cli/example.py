"""`epcloud example shoebox -o shoebox.idf`: write epcloud's example model, with its parameters as options."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from rich.markup import escape

from epcloud.cli.output import out, print_json
from epcloud.errors import UsageError

_UNITS = {
    "width": "m, east-west",
    "depth": "m, north-south",
    "height": "m, floor to ceiling",
    "window_to_wall": "of the south facade, 0-0.95",
    "wall_r": "m²K/W, wall insulation",
    "roof_r": "m²K/W, roof insulation",
    "window_u": "W/m²K",
    "window_shgc": "0-1",
    "north_axis": "degrees clockwise",
    "infiltration_ach": "air changes per hour",
    "lighting_w_m2": "W/m²",
    "equipment_w_m2": "W/m²",
    "m2_per_person": "m² per person",
    "heating_setpoint": "°C",
    "cooling_setpoint": "°C",
    "timesteps_per_hour": "",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "example",
        help="write an example model to start from",
        description="Write an example EnergyPlus model: `shoebox` is a one-zone office with ideal loads, "
        "every parameter of which is an option here (and a column of a `batch` sweep file).",
    )
    kinds = parser.add_subparsers(dest="example", metavar="MODEL", required=True)
    from epcloud.model import Shoebox

    shoebox = kinds.add_parser(
        "shoebox",
        help="a one-zone shoebox office (the model of `epcloud demo`)",
        description="Write the Shoebox model as IDF; every option is one of its parameters.",
    )
    shoebox.add_argument(
        "-o", "--output", default="shoebox.idf", help="the file to write (default: %(default)s)"
    )
    shoebox.add_argument("--force", action="store_true", help="replace the file if it exists")
    shoebox.add_argument("--json", action="store_true", help="print the file and parameters as JSON")
    for item in fields(Shoebox):
        kind = int if isinstance(item.default, int) and not isinstance(item.default, bool) else float
        units = _UNITS.get(item.name, "")
        shoebox.add_argument(
            "--" + item.name.replace("_", "-"),
            type=kind,
            default=item.default,
            metavar="N",
            help=f"{units + '; ' if units else ''}default %(default)s",
        )
    shoebox.set_defaults(func=_shoebox)


def _shoebox(args: argparse.Namespace) -> int:
    from epcloud.model import Shoebox

    target = Path(args.output)
    if target.exists() and not args.force:
        raise UsageError(f"{target} already exists; nothing was written. Pass --force to replace it")
    if target.suffix.lower() != ".idf":
        raise UsageError(f"-o {target}: the example is written as IDF; give a name ending in .idf")
    model = Shoebox(**{f.name: getattr(args, f.name) for f in fields(Shoebox)})
    target.write_text(model.to_idf(), encoding="utf-8")
    if args.json:
        print_json({"output": str(target.resolve()), "parameters": model.parameters()}, indent=2)
        return 0
    out().print(
        f"wrote {escape(str(target))} (Shoebox {model.width:g} x {model.depth:g} x {model.height:g} m)"
    )
    out().print(f"run it: epcloud run {escape(str(target))} -w chicago")
    return 0

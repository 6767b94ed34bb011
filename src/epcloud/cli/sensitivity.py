"""`epcloud sensitivity STORE --target COLUMN`: which parameter of a sweep study drives a result."""

from __future__ import annotations

import argparse
import json
import math

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sensitivity",
        help="rank a sweep study's parameters for a result column",
        description="Collects the study (only new results are read), then ranks its parameters: Sobol "
        "indices for a sobol design, Morris mu*/sigma for morris, standardised regression coefficients "
        "and Spearman rank correlation otherwise.",
    )
    parser.add_argument("store", help="the study's location: s3://bucket/prefix or a folder")
    parser.add_argument("--target", required=True, help="a numeric column of the jobs table")
    parser.add_argument("--json", action="store_true", help="print one JSON object per row")
    parser.set_defaults(func=_run)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return escape(str(value))


def _run(args: argparse.Namespace) -> int:
    from epcloud.study import Study

    tables = Study.open(args.store).collect()
    frame = tables.sensitivity(args.target)
    if args.json:
        for row in frame.to_dict(orient="records"):
            print(json.dumps(row))
        return 0
    console = Console()
    console.print(f"{escape(args.target)}: {escape(frame.attrs['method'])}", highlight=False, soft_wrap=True)
    table = Table(*[c for c in frame.columns if c != "method"])
    for values in frame.itertuples(index=False, name=None):
        table.add_row(*[_cell(v) for c, v in zip(frame.columns, values, strict=True) if c != "method"])
    console.print(table)
    return 0

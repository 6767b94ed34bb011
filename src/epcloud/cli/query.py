"""`epcloud query STORE "SELECT ..."`: DuckDB SQL over a collected study's `jobs` and `timeseries`."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

_MAX_SHOWN = 200  # rows in the terminal table; --csv and --json print every row


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "query",
        help="run SQL over a collected study (DuckDB)",
        description="Run one DuckDB SQL statement over a collected study's tables, read in place from the "
        "store with its own endpoint and credentials: `jobs` (one row per job) and `timeseries` (long "
        "form; `variable` is the variable's slug, `variable_name` its full name). Needs "
        "pip install 'epcloud[query]'; run `epcloud collect STORE` first.",
    )
    parser.add_argument("store", help="the study's location: s3://bucket/prefix or a folder")
    parser.add_argument("sql", help='the statement, e.g. "SELECT label, status FROM jobs"')
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the rows as a JSON list of objects")
    output.add_argument("--csv", action="store_true", help="print the rows as CSV with a header")
    parser.set_defaults(func=_query)


def _plain(value: Any) -> Any:
    """A JSON-safe cell: timestamps as ISO text, NaN as null."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return str(_plain(value))


def _query(args: argparse.Namespace) -> int:
    try:
        import duckdb  # noqa: F401
    except ImportError:
        raise SystemExit("epcloud query needs DuckDB: pip install 'epcloud[query]'") from None
    from epcloud.errors import ResultNotFoundError
    from epcloud.study import Study
    from epcloud.study.dataset import run_query

    study = Study.open(args.store)
    try:
        columns, rows = run_query(study.fs, args.sql)
    except ResultNotFoundError:
        raise ResultNotFoundError(
            f"{study.url} has no collected tables yet: run `epcloud collect {args.store}` first"
        ) from None
    if args.json:
        print(json.dumps([dict(zip(columns, map(_plain, row), strict=True)) for row in rows], default=str))
        return 0
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_text(cell) for cell in row] for row in rows)
        return 0
    table = Table(*(escape(c) for c in columns), header_style="bold")
    for row in rows[:_MAX_SHOWN]:
        table.add_row(*(escape(_text(cell)) for cell in row))
    console = Console()
    console.print(table)
    more = f" (the first {_MAX_SHOWN} shown: use --csv or --json for all)" if len(rows) > _MAX_SHOWN else ""
    console.print(f"{len(rows)} rows{more}", highlight=False)
    return 0

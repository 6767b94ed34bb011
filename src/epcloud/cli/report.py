"""`epcloud report STORE_URL -o report.html`: a study's results as one self-contained page."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write an HTML report of a study",
        description="Collect a study's results and write one self-contained HTML page: status counts, "
        "runtimes, annual end uses per job, a timeseries across jobs and a table of jobs.",
    )
    parser.add_argument("store", help="the study's store URL (s3://bucket/study-001 or a folder)")
    parser.add_argument("-o", "--output", help="the HTML file to write (default: report.html)")
    parser.add_argument(
        "--force", action="store_true", help="replace report.html when it exists and -o is not given"
    )
    parser.add_argument("--variable", help="the timeseries to chart (default: the first collected)")
    parser.add_argument("--title", help="page title (default: the store URL)")
    parser.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    from epcloud.errors import UsageError
    from epcloud.report import render_report
    from epcloud.study import Study

    if args.output is None:
        args.output = "report.html"
        if Path(args.output).exists() and not args.force:
            raise UsageError(
                f"{Path(args.output).resolve()} already exists; nothing was written. Name the page with "
                "-o, or pass --force to replace it"
            )

    study = Study.open(args.store)
    tables = study.collect()
    page = render_report(
        tables.jobs, tables.timeseries, title=args.title or study.url, variable=args.variable
    )
    Path(args.output).write_text(page, encoding="utf-8")
    Console().print(f"wrote {args.output} ({len(tables.jobs)} jobs)", soft_wrap=True)
    return 0

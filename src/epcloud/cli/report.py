"""`epcloud report STORE_URL -o report.html`: a study's results as one self-contained page."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from epcloud.errors import StoragePathError, StudyInputError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write an HTML report of a study",
        description="Collect a study's results and write one self-contained HTML page (it opens offline): "
        "status and failed jobs, site energy and EUI per job, end uses or peak design loads, parameter "
        "responses, the requested series by month and hour, runtimes and provenance.",
    )
    parser.add_argument("store", help="the study's store URL (s3://bucket/study-001 or a folder)")
    parser.add_argument(
        "-o",
        "--output",
        help="the HTML file to write: a path, or a store URL such as s3://bucket/reports/study.html "
        "(default: report.html)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace report.html when it exists and -o is not given"
    )
    parser.add_argument("--variable", help="chart only this series (default: every collected one)")
    parser.add_argument("--title", help="page title (default: the store URL)")
    parser.set_defaults(func=_report)


def _write(output: str, page: str) -> str:
    """Write the page to a local path or a store URL; returns where it went."""
    if "://" not in output or output.startswith("file://"):
        path = Path(output.removeprefix("file://")).expanduser()
        if path.is_dir():
            raise StoragePathError(
                f"-o {output} is a folder: give a file name such as {path / 'report.html'}"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
        return str(path)
    from epcloud.storage import open_fs

    folder, _, name = output.rstrip("/").rpartition("/")
    if not name.endswith((".html", ".htm")) or folder.endswith(":/"):
        raise StoragePathError(f"-o {output} names no HTML file: end it with a name such as report.html")
    store = open_fs(folder)
    store.write_text(name, page)
    return store.url(name)


def _sensitivity(tables: object) -> tuple[dict[str, float] | None, str | None]:
    """The sweep's ranking of its parameters for the total site energy, and the method's name; None for
    a study made without a sweep (or an epcloud whose tables rank nothing), or without energy."""
    from epcloud.study.summary import TOTAL_SITE_ENERGY

    rank = getattr(tables, "sensitivity", None)
    jobs = getattr(tables, "jobs", None)
    if rank is None or not getattr(tables, "sweep", None) or jobs is None or TOTAL_SITE_ENERGY not in jobs:
        return None, None
    if jobs[TOTAL_SITE_ENERGY].notna().sum() < 2:
        return None, None
    found = rank(TOTAL_SITE_ENERGY)
    # Sobol's total index, Morris's mu*, else the regression's standardised coefficient (by size).
    column = next((c for c in ("ST", "mu_star", "src") if c in found.columns), None)
    if column is None or "parameter" not in found.columns:
        return None, None
    size = found.assign(size=found[column].abs()).groupby("parameter")["size"].max()  # over weather files
    return {str(k): float(v) for k, v in size.items()}, _RANKED_BY[column]


# The index the report's ranking shows, by its column in `StudyTables.sensitivity`.
_RANKED_BY = {
    "ST": "Sobol total-order index (ST)",
    "mu_star": "Morris mu* (mean absolute elementary effect)",
    "src": "standardised regression coefficients (src)",
}


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
    requested = [v.name for v in study.info.variables]
    if args.variable and args.variable.lower() not in {name.lower() for name in requested}:
        raise StudyInputError(
            f"--variable {args.variable!r} was not requested when the study was created; "
            f"its series: {', '.join(requested) or 'none'}"
        )
    tables = study.collect()
    info = study.info
    from epcloud.study.collect import parameter_column

    # The parameters of the study, as their columns in the jobs table: a sweep's own (not the sample
    # number it records too), else every name the jobs recorded.
    sweep = info.metadata.get("sweep")
    if isinstance(sweep, dict):
        from epcloud.study.sweep import parameter_names

        names = parameter_names(sweep)
    else:
        names = sorted({name for entry in study.entries() for name in entry.parameters})
    parameters = [parameter_column(name) for name in names]
    ranking, method = _sensitivity(tables)
    page = render_report(
        tables.jobs,
        tables.timeseries,
        title=args.title or study.url,
        variable=args.variable,
        parameters=parameters,
        sensitivity=ranking,
        sensitivity_method=method,
        provenance={
            "url": study.url,
            "created_at": info.created_at,
            "epcloud_version": info.epcloud_version,
            "energyplus_version": info.energyplus_version,
            "metadata": info.metadata,
        },
    )
    where = _write(args.output, page)
    Console().print(f"wrote {escape(where)} ({len(tables.jobs)} jobs)", highlight=False, soft_wrap=True)
    return 0

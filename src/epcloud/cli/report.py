"""`epcloud report STORE_URL -o report.html`: a study's results as one self-contained page."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from epcloud.errors import StoragePathError, StudyInputError


def register(subparsers: argparse._SubParsersAction) -> None:
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
        default="report.html",
        help="the HTML file to write: a path, or a store URL such as s3://bucket/reports/study.html",
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


def _sensitivity(tables: object) -> dict[str, float] | None:
    """The sensitivity ranking of the total site energy, when this epcloud's tables offer one."""
    rank = getattr(tables, "sensitivity", None)
    jobs = getattr(tables, "jobs", None)
    from epcloud.study.summary import TOTAL_SITE_ENERGY

    if rank is None or jobs is None or TOTAL_SITE_ENERGY not in jobs or jobs[TOTAL_SITE_ENERGY].isna().all():
        return None
    found = rank(TOTAL_SITE_ENERGY)
    if hasattr(found, "to_dict") and not hasattr(found, "columns"):  # a Series by parameter
        return {str(k): float(v) for k, v in found.to_dict().items()}
    if hasattr(found, "columns"):  # a DataFrame: its first numeric column, by its "parameter" column or index
        frame = found.set_index("parameter") if "parameter" in found.columns else found
        numeric = frame.select_dtypes("number")
        return {str(k): float(v) for k, v in numeric.iloc[:, 0].items()} if numeric.shape[1] else None
    return {str(k): float(v) for k, v in dict(found).items()}


def _report(args: argparse.Namespace) -> int:
    try:
        from epcloud.report import render_report
    except ImportError as exc:  # plotly or pandas missing
        raise SystemExit(f"epcloud report: {exc}") from None
    from epcloud.study import Study

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

    # The parameters the study recorded for its jobs, as their columns in the jobs table.
    names = sorted({name for entry in study.entries() for name in entry.parameters})
    parameters = [parameter_column(name) for name in names]
    page = render_report(
        tables.jobs,
        tables.timeseries,
        title=args.title or study.url,
        variable=args.variable,
        parameters=parameters,
        sensitivity=_sensitivity(tables),
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

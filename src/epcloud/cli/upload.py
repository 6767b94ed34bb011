"""`epcloud upload LOCAL_DIR URL`: send a finished local run to a store (one kept after a failed upload)."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from epcloud.errors import ResultNotFoundError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "upload",
        help="send a finished local run to a store",
        description="Send a finished local run folder to a store, run-status.json last. Finishes the "
        "upload of a run that epcloud kept because its upload failed.",
    )
    parser.add_argument("local_dir", metavar="LOCAL_DIR", help="the run folder (it holds run-status.json)")
    parser.add_argument("url", metavar="URL", help="where the run goes, e.g. s3://bucket/prefix/run-001")
    parser.add_argument(
        "--upload",
        nargs="+",
        metavar="PATTERN",
        help="file patterns to send (default: the standard set; 'all' for every file)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the local folder even when it is one epcloud kept"
    )
    parser.set_defaults(func=_upload)


def _upload(args: argparse.Namespace) -> int:
    from epcloud.results.simulation_result import SimulationResult
    from epcloud.storage import open_fs

    local = Path(args.local_dir).expanduser()
    if not local.is_dir():
        raise ResultNotFoundError(f"LOCAL_DIR {local} is not a folder")
    url = args.url.rstrip("/")
    store_url, _, output_dir = url.rpartition("/")
    if "://" not in store_url or not output_dir:
        raise ResultNotFoundError(
            f"URL {args.url!r} must name a store and the run's folder in it, e.g. s3://bucket/prefix/run-001"
        )
    result = SimulationResult.from_directory(local)
    upload = None if args.upload is None else ("all" if args.upload == ["all"] else args.upload)
    stored = result.upload(open_fs(store_url), output_dir, upload=upload)
    console = Console(soft_wrap=True)
    console.print(f"uploaded {escape(str(local))} to {escape(stored.location)}", highlight=False)
    from epcloud.run.folder import unsent_dir

    unsent = unsent_dir().resolve()
    if not args.keep and local.resolve().is_relative_to(unsent) and local.resolve() != unsent:
        shutil.rmtree(local)
        console.print(f"removed the kept copy {escape(str(local))}", highlight=False)
    return 0

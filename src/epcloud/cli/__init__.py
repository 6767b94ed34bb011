"""The `epcloud` command line: one module per command group, each thin over the public API."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from epcloud import __version__
from epcloud.errors import EpcloudError

# Each module has `register(subparsers)`; it adds its commands and sets `func` on their parsers.
_COMMAND_MODULES = ("run", "batch", "demo", "weather", "study", "report", "doctor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="epcloud",
        description="Run EnergyPlus simulations locally, in batches and in the cloud.",
    )
    parser.add_argument("--version", action="version", version=f"epcloud {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what epcloud does")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    import importlib

    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(f"epcloud.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"epcloud.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except EpcloudError as exc:
        from rich.console import Console
        from rich.markup import escape

        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

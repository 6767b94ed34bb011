"""The `epcloud` command line: one module per command group, each thin over the public API.

Errors, exit codes, ``--json`` and ``--verbose`` are handled here once for every command: a command
raises, `main` prints one line in CLI words (or a JSON error object) and returns the documented code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from epcloud import __version__
from epcloud.cli.errors import EXIT_INTERRUPTED, EXIT_USAGE, ParserError, describe

# Each module has `register(subparsers)`; it adds its commands and sets `func` on their parsers.
_COMMAND_MODULES = (
    "run",
    "batch",
    "demo",
    "example",
    "weather",
    "study",
    "report",
    "upload",
    "sensitivity",
    "query",
    "doctor",
)

_ONLY = {"worker": "study"}
"""Commands whose module alone is loaded: an array job starts thousands of workers, and the other
command modules' imports cost each one ~0.1 s of CPU."""

log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises on bad arguments, so `main` reports them like any other error."""

    def error(self, message: str) -> NoReturn:
        raise ParserError(f"{self.prog}: {message} (see {self.prog} --help)", self.format_usage(), self.prog)


class _Completion(argparse.Action):
    """``--print-completion bash|zsh|tcsh``: print a shell completion script (shtab) and exit."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option: Any = None
    ) -> None:
        import shtab

        print(shtab.complete(parser, shell=values))
        parser.exit(0)


def _subparsers(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for parser_ in dict.fromkeys(action.choices.values()):
                found.append((parser_.prog, parser_))
                found.extend(_subparsers(parser_))
    return found


def build_parser(command: str = "") -> argparse.ArgumentParser:
    """The CLI's parser; for a ``command`` in `_ONLY`, with that command's module alone."""
    parser = _Parser(
        prog="epcloud",
        description="Run EnergyPlus simulations locally, in batches and in the cloud.",
        epilog="Exit codes: 0 done, 1 simulations failed, 2 bad input or a missing extra, "
        "3 a store or the network failed, 4 a bug in epcloud, 130 interrupted. See docs/cli.md.",
    )
    parser.add_argument("--version", action="version", version=f"epcloud {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log what epcloud does; show tracebacks of errors"
    )
    parser.add_argument(
        "--print-completion",
        choices=("bash", "zsh", "tcsh"),
        action=_Completion,
        help="print a shell completion script, e.g. `epcloud --print-completion bash > ~/.epcloud.bash`",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in (_ONLY[command],) if command in _ONLY else _COMMAND_MODULES:
        try:
            module = importlib.import_module(f"epcloud.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"epcloud.cli.{name}":
                raise
            continue
        module.register(subparsers)
    for prog, sub in _subparsers(parser):
        # `epcloud run ... -v` as well as `epcloud -v run ...`; SUPPRESS keeps the top-level value.
        if not any("--verbose" in action.option_strings for action in sub._actions):
            sub.add_argument(
                "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="as above"
            )
        sub.set_defaults(_command=prog.removeprefix("epcloud "))
    return parser


def _report(exc: BaseException, command: str, as_json: bool, verbose: bool) -> int:
    """Tell the user about ``exc`` in one line (or JSON on stdout); the traceback only with --verbose."""
    problem = describe(exc, command)
    if verbose:
        log.error("%s failed", f"epcloud {command}", exc_info=exc)
    if as_json:
        from epcloud.cli.output import print_json

        print_json({"error": {**problem.to_dict()["error"], "exit_code": problem.exit_code}})
        return problem.exit_code
    from rich.markup import escape

    from epcloud.cli.output import err

    if isinstance(exc, ParserError):
        sys.stderr.write(exc.usage)
    err().print(f"[bold red]error:[/] {escape(problem.message)}")
    return problem.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in arguments
    verbose = "-v" in arguments or "--verbose" in arguments
    command = next((a for a in arguments if not a.startswith("-")), "")
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    parser = build_parser(command)
    try:
        args = parser.parse_args(arguments)
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        command = getattr(args, "_command", command)
        return int(args.func(args) or 0)
    except KeyboardInterrupt as exc:
        if as_json:
            _report(exc, command, True, False)
        else:
            sys.stderr.write("\ninterrupted (Ctrl-C): finished outputs are kept\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `epcloud ... | head`: the reader left; say nothing more
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        return _report(exc, command, as_json, verbose)


if __name__ == "__main__":
    sys.exit(main())

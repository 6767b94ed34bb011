"""Where the command line writes: results and summaries to stdout, progress, notes and errors to stderr."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape

__all__ = ["err", "note", "out", "print_json", "print_jsonl"]


def out() -> Console:
    """The console for results (stdout); follows a redirected ``sys.stdout``."""
    return Console(file=sys.stdout, soft_wrap=True, highlight=False)


def err() -> Console:
    """The console for progress, notes and errors (stderr)."""
    return Console(file=sys.stderr, soft_wrap=True, highlight=False)


def note(text: str) -> None:
    """One plain line to stderr (``text`` is escaped, never read as markup)."""
    err().print(escape(text))


def print_json(data: Any, *, indent: int | None = None) -> None:
    """One JSON document to stdout."""
    sys.stdout.write(json.dumps(data, indent=indent, default=str) + "\n")
    sys.stdout.flush()


def print_jsonl(row: Any) -> None:
    """One JSON Lines record to stdout, flushed so a pipe reads it at once."""
    sys.stdout.write(json.dumps(row, default=str) + "\n")
    sys.stdout.flush()

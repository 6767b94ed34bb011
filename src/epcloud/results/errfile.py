"""Parsing EnergyPlus's error file (eplusout.err): messages, counts and how the run ended."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from epcloud.errors import ResultNotFoundError

__all__ = ["ErrorMessage", "ErrorReport", "Severity", "decode_text"]

logger = logging.getLogger(__name__)

Severity = Literal["warning", "severe", "fatal", "info"]

# "   ** Warning ** text", "   ** Severe  ** text", "   **  Fatal  ** text"; in the recurring-error
# summary the same lines come behind the "*************" banner EnergyPlus gives plain messages.
_MESSAGE = re.compile(
    r"^\s*(?P<banner>\*{13}\s*)?\*\*\s*(?P<severity>Warning|Severe|Fatal)\s*\*\*(?P<text>.*)$", re.IGNORECASE
)
_CONTINUATION = re.compile(r"^\s*(?:\*{13}\s*)?\*\*\s*~~~\s*\*\*(?P<text>.*)$")
_BANNER = re.compile(r"^\s*\*{13}(?P<text>.*)$")
# After a fatal error: "   ...Summary of Errors that led to program termination:", "   ..... Last severe".
_DOTTED = re.compile(r"^\s+\.{3}")
_CLOSING = re.compile(
    r"EnergyPlus\s+(?P<how>Completed Successfully|Terminated--Fatal Error Detected)"
    r"(?:\W*(?P<warnings>\d+)\s+Warning;\s*(?P<severe>\d+)\s+Severe(?: Errors)?)?"
    r"(?:;\s*Elapsed Time=(?P<h>\d+)hr\s*(?P<m>\d+)min\s*(?P<s>[\d.]+)sec)?",
    re.IGNORECASE,
)
_WARMUP_CONVERGED = re.compile(r"Warmup Converged", re.IGNORECASE)
_PHASE = re.compile(
    r"During\s+(?P<phase>Warmup|Sizing):\s*(?P<warnings>\d+)\s+Warning;\s*(?P<severe>\d+)\s+Severe",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ErrorMessage:
    """One warning, severe or fatal error; `message` holds its continuation lines after newlines."""

    severity: Severity
    message: str
    line: int
    recurring: bool = False  # from the "Recurring Error Summary" at the end of the file

    def __str__(self) -> str:
        return f"{self.severity.capitalize()} (line {self.line}): {self.message}"

    # -- idfkit names (docs/idfkit.md) ----------------------------------------------------------

    @property
    def details(self) -> tuple[str, ...]:
        """The continuation lines: `message` after its first line (idfkit keeps them apart)."""
        return tuple(self.message.split("\n")[1:])


@dataclass(frozen=True)
class ErrorReport:
    """What an .err file says: every message, the totals, and whether EnergyPlus finished.

    ``info`` holds the ``** ~~~ **`` lines that follow no message; ``raw_text`` the file's text.
    """

    messages: tuple[ErrorMessage, ...] = ()
    warning_count: int = 0
    severe_count: int = 0
    completed: bool = False
    completed_successfully: bool = False
    warmup_warning_count: int | None = None
    warmup_severe_count: int | None = None
    sizing_warning_count: int | None = None
    sizing_severe_count: int | None = None
    elapsed_seconds: float | None = None
    info: tuple[ErrorMessage, ...] = ()
    warmup_converged: bool = False
    raw_text: str = field(default="", repr=False, compare=False)

    @classmethod
    def empty(cls) -> ErrorReport:
        """The report of a run that wrote no .err file."""
        return cls()

    @classmethod
    def from_text(cls, text: str) -> ErrorReport:
        """Parse the content of an .err file."""
        return replace(_parse(text.splitlines()), raw_text=text)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> ErrorReport:
        """Parse an .err file line by line (they can be large); a missing file raises ResultNotFoundError."""
        try:
            with open(path, "rb") as handle:
                return _parse(decode_text(line) for line in handle)
        except FileNotFoundError as exc:
            raise ResultNotFoundError(f"EnergyPlus error file not found: {os.fspath(path)}") from exc

    @property
    def fatal(self) -> tuple[ErrorMessage, ...]:
        return tuple(m for m in self.messages if m.severity == "fatal")

    @property
    def severe(self) -> tuple[ErrorMessage, ...]:
        return tuple(m for m in self.messages if m.severity == "severe")

    @property
    def warnings(self) -> tuple[ErrorMessage, ...]:
        return tuple(m for m in self.messages if m.severity == "warning")

    @property
    def has_fatal(self) -> bool:
        """True when a fatal error was reported or EnergyPlus said it terminated."""
        return any(m.severity == "fatal" for m in self.messages) or (
            self.completed and not self.completed_successfully
        )

    # -- idfkit names (docs/idfkit.md) ----------------------------------------------------------

    @classmethod
    def from_string(cls, text: str) -> ErrorReport:
        """idfkit's name for `from_text`."""
        return cls.from_text(text)

    @property
    def simulation_complete(self) -> bool:
        """idfkit's name for `completed_successfully`."""
        return self.completed_successfully

    @property
    def has_severe(self) -> bool:
        """True when a severe error was reported (`severe_count` > 0)."""
        return self.severe_count > 0

    @property
    def fatal_count(self) -> int:
        """The number of fatal errors."""
        return len(self.fatal)

    @property
    def error_count(self) -> int:
        """Fatal plus severe errors."""
        return self.fatal_count + self.severe_count

    # -- reading ------------------------------------------------------------------------------------

    def summary(self, max_messages: int = 3) -> str:
        """A few lines for a human: how the run ended, the counts, and the first fatal/severe errors."""
        if self.completed_successfully:
            status = "EnergyPlus completed successfully"
        elif self.completed or self.has_fatal:
            status = "EnergyPlus terminated with a fatal error"
        else:
            status = "EnergyPlus did not finish (the .err file has no closing line)"
        counts = f"{self.warning_count} warning(s), {self.severe_count} severe error(s)"
        if self.elapsed_seconds is not None:
            counts += f" in {self.elapsed_seconds:.2f} s"
        lines = [f"{status}: {counts}."]
        serious = [m for m in self.messages if m.severity != "warning" and not m.recurring]
        shown = [m for m in serious if m.severity == "fatal"][:1]
        shown += [m for m in serious if m.severity == "severe"][:max_messages]
        for message in shown:
            first, _, rest = message.message.partition("\n")
            more = " [...]" if rest else ""
            lines.append(f"  {message.severity.capitalize()} (line {message.line}): {first}{more}")
        if len(serious) > len(shown):
            lines.append(f"  ... and {len(serious) - len(shown)} more fatal/severe message(s)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def decode_text(raw: bytes) -> str:
    """EnergyPlus text as str: UTF-8, or Latin-1 where EnergyPlus wrote that (its degree sign, 0xB0)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


class _Pending:
    """A message being read: its first line and the continuation lines seen so far."""

    __slots__ = ("line", "parts", "recurring", "severity")

    def __init__(self, severity: Severity, text: str, line: int, recurring: bool) -> None:
        self.severity = severity
        self.parts = [text]
        self.line = line
        self.recurring = recurring

    def finish(self) -> ErrorMessage:
        return ErrorMessage(self.severity, "\n".join(self.parts), self.line, self.recurring)


def _parse(lines: Iterable[str]) -> ErrorReport:
    messages: list[ErrorMessage] = []
    info: list[ErrorMessage] = []
    seen: list[str] = []
    warmup_converged = False
    pending: _Pending | None = None
    closing: re.Match[str] | None = None
    phases: dict[str, tuple[int, int]] = {}

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            messages.append(pending.finish())
            pending = None

    for number, raw in enumerate(lines, start=1):
        seen.append(raw)
        line = raw.rstrip("\r\n")
        if not warmup_converged and _WARMUP_CONVERGED.search(line):
            warmup_converged = True
        if (match := _MESSAGE.match(line)) is not None:
            flush()
            severity: Severity = match["severity"].lower()  # type: ignore[assignment]
            pending = _Pending(severity, match["text"].strip(), number, match["banner"] is not None)
        elif (match := _CONTINUATION.match(line)) is not None:
            if pending is not None:
                pending.parts.append(match["text"].strip())
            elif match["text"].strip():
                info.append(ErrorMessage("info", match["text"].strip(), number))
        elif pending is not None and _DOTTED.match(line):
            pending.parts.append(line.strip())
        else:
            flush()
            banner = _BANNER.match(line)
            if banner is None:
                continue
            if (found := _CLOSING.search(banner["text"])) is not None:
                closing = found
            elif (phase := _PHASE.search(banner["text"])) is not None:
                phases[phase["phase"].lower()] = (int(phase["warnings"]), int(phase["severe"]))
    flush()
    report = _report(messages, closing, phases)
    return replace(report, info=tuple(info), warmup_converged=warmup_converged, raw_text="".join(seen))


def _report(
    messages: list[ErrorMessage], closing: re.Match[str] | None, phases: dict[str, tuple[int, int]]
) -> ErrorReport:
    counted = [m for m in messages if not m.recurring]
    warnings = sum(m.severity == "warning" for m in counted)
    severe = sum(m.severity == "severe" for m in counted)
    elapsed = None
    if closing is not None:
        if closing["warnings"] is not None:
            warnings, severe = int(closing["warnings"]), int(closing["severe"])
        if closing["h"] is not None:
            elapsed = int(closing["h"]) * 3600 + int(closing["m"]) * 60 + float(closing["s"])
    warmup = phases.get("warmup", (None, None))
    sizing = phases.get("sizing", (None, None))
    return ErrorReport(
        messages=tuple(messages),
        warning_count=warnings,
        severe_count=severe,
        completed=closing is not None,
        completed_successfully=closing is not None and closing["how"].lower().startswith("completed"),
        warmup_warning_count=warmup[0],
        warmup_severe_count=warmup[1],
        sizing_warning_count=sizing[0],
        sizing_severe_count=sizing[1],
        elapsed_seconds=elapsed,
    )

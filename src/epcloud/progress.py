"""Progress of runs: events parsed from EnergyPlus's console output, safe callbacks, a rich progress bar."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ["ProgressCallback", "ProgressEvent", "ProgressParser", "RichBatchProgress", "SafeCallback"]

log = logging.getLogger(__name__)

# "Starting Simulation at 01/21 for ENV", "Continuing Simulation at 03/01/2017 for ENV"
_SIMULATING = re.compile(r"^(Starting|Continuing) Simulation at (\d{1,2})/(\d{1,2})(?:/(\d{4}))? for (.+)$")
_SIZING_ENV = re.compile(r"^\.\.\.for Sizing Period: #\d+ (.+)$")
_PHASES = (
    ("EnergyPlus Starting", "starting"),
    ("Initializing", "initializing"),
    ("Adjusting", "sizing"),
    ("Beginning", "initializing"),
    ("Performing", "sizing"),
    ("Calculating", "sizing"),
    ("Warming up", "warmup"),
    ("Writing", "reporting"),
    ("EnergyPlus Run Time", "finished"),
    ("EnergyPlus Completed", "finished"),
    ("EnergyPlus Terminated", "failed"),
)


@dataclass(frozen=True)
class ProgressEvent:
    """Where one run is: phase, current environment, percent through it (when known), and which job."""

    phase: str
    message: str
    environment: str | None = None
    percent: float | None = None
    job_index: int | None = None
    label: str = ""


ProgressCallback = Callable[[ProgressEvent], object]


def _day_percent(month: int, day: int, year: int | None) -> float | None:
    """How far through a year a date is, in percent (a run period's progress, assuming a calendar year)."""
    try:
        when = date(year or 2017, month, day)
    except ValueError:
        return None
    days = 366 if (when.year % 4 == 0 and when.year % 100 != 0) or when.year % 400 == 0 else 365
    return round(100.0 * (when.timetuple().tm_yday - 1) / days, 1)


class ProgressParser:
    """Turns EnergyPlus console lines into `ProgressEvent`s; lines that say nothing new give None."""

    def __init__(self, job_index: int | None = None, label: str = "") -> None:
        self.job_index = job_index
        self.label = label
        self.environment: str | None = None

    def feed(self, line: str) -> ProgressEvent | None:
        text = line.strip()
        match = _SIMULATING.match(text)
        if match:
            verb, month, day, year, env = match.groups()
            self.environment = env.strip()
            year_number = int(year) if year else None
            percent = 0.0 if verb == "Starting" else _day_percent(int(month), int(day), year_number)
            return self._event("simulating", text, percent)
        sizing = _SIZING_ENV.match(text)
        if sizing:
            self.environment = sizing.group(1).strip()
            return self._event("sizing", text, None)
        for start, phase in _PHASES:
            if text.startswith(start):
                return self._event(phase, text, 100.0 if phase == "finished" else None)
        return None

    def _event(self, phase: str, message: str, percent: float | None) -> ProgressEvent:
        return ProgressEvent(phase, message, self.environment, percent, self.job_index, self.label)


class SafeCallback:
    """Calls a user's progress callback from any thread; one that raises is logged once, never fatal."""

    def __init__(self, callback: ProgressCallback) -> None:
        self.callback = callback
        self._lock = threading.Lock()
        self._reported = False

    def __call__(self, event: ProgressEvent) -> None:
        try:
            self.callback(event)
        except Exception:
            with self._lock:
                first, self._reported = not self._reported, True
            if first:
                log.exception("the progress callback raised; its later errors are ignored")

    def line_handler(self, job_index: int | None = None, label: str = "") -> Callable[[str], None]:
        """An ``on_line`` for `run_process` that feeds one run's lines to this callback."""
        parser = ProgressParser(job_index, label)

        def on_line(line: str) -> None:
            event = parser.feed(line)
            if event is not None:
                self(event)

        return on_line


def combine(*callbacks: ProgressCallback | None) -> SafeCallback | None:
    """One safe callback calling each given callback in turn (None when none is given)."""
    present = [c for c in callbacks if c is not None]
    if not present:
        return None
    if len(present) == 1:
        return SafeCallback(present[0])
    safe = [SafeCallback(c) for c in present]

    def every(event: ProgressEvent) -> None:
        for callback in safe:
            callback(event)

    return SafeCallback(every)


class RichBatchProgress:
    """A rich progress bar for a batch: jobs done of the total, the running jobs' phases, a final summary."""

    def __init__(self, total: int, console: Any = None) -> None:
        from rich.console import Console

        self.total = total
        self.console = console or Console(stderr=True)
        self._lock = threading.Lock()
        self._failed = 0
        self._cached = 0
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._current: dict[int, ProgressEvent] = {}

    def __enter__(self) -> RichBatchProgress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("[bold]simulations"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=self.console,
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task("", total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def on_event(self, event: ProgressEvent) -> None:
        """Show the latest phase of the running jobs (an ``on_progress`` callback)."""
        if event.job_index is None or self._progress is None or self._task is None:
            return
        with self._lock:
            self._current[event.job_index] = event
            if event.phase in ("finished", "failed"):
                self._current.pop(event.job_index, None)
            description = self._describe()
        self._progress.update(self._task, description=description)

    def job_done(self, index: int, success: bool, cached: bool = False) -> None:
        """Advance the bar by one finished job."""
        if self._progress is None or self._task is None:
            return
        with self._lock:
            self._current.pop(index, None)
            self._failed += not success
            self._cached += cached
            description = self._describe()
        self._progress.update(self._task, advance=1, description=description)

    def summary(self, succeeded: int, failed: int, wall_seconds: float) -> None:
        """One closing line: how many succeeded, failed and came from the cache."""
        cached = f", {self._cached} from the cache" if self._cached else ""
        colour = "green" if failed == 0 else "red"
        self.console.print(
            f"[{colour}]{succeeded} succeeded, {failed} failed[/]{cached} in {wall_seconds:.1f} s",
            highlight=False,
        )

    def _describe(self) -> str:
        running = len(self._current)
        failed = f" [red]{self._failed} failed[/]" if self._failed else ""
        phases = sorted({e.phase for e in self._current.values()})
        return f"{running} running ({', '.join(phases)}){failed}" if running else failed.strip()

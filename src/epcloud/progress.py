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

__all__ = [
    "ProgressCallback",
    "ProgressEvent",
    "ProgressParser",
    "RichBatchProgress",
    "RichRunProgress",
    "SafeCallback",
]

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
    """Where one run is: phase, current environment, percent through it (when known), and which job.

    ``day`` is the simulated day EnergyPlus last reported (``"03/22/2017"``; a design day has no year).
    """

    phase: str
    message: str
    environment: str | None = None
    percent: float | None = None
    job_index: int | None = None
    label: str = ""
    day: str | None = None

    @property
    def design_day(self) -> bool:
        """Whether the environment being simulated is a design day (its days carry no year)."""
        return self.day is not None and self.day.count("/") == 1


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
        self.day: str | None = None

    def feed(self, line: str) -> ProgressEvent | None:
        text = line.strip()
        match = _SIMULATING.match(text)
        if match:
            verb, month, day, year, env = match.groups()
            self.environment = env.strip()
            self.day = f"{month}/{day}/{year}" if year else f"{month}/{day}"
            year_number = int(year) if year else None
            percent = 0.0 if verb == "Starting" else _day_percent(int(month), int(day), year_number)
            return self._event("simulating", text, percent)
        sizing = _SIZING_ENV.match(text)
        if sizing:
            self.environment = sizing.group(1).strip()
            self.day = None
            return self._event("sizing", text, None)
        for start, phase in _PHASES:
            if text.startswith(start):
                return self._event(phase, text, 100.0 if phase == "finished" else None)
        return None

    def _event(self, phase: str, message: str, percent: float | None) -> ProgressEvent:
        return ProgressEvent(phase, message, self.environment, percent, self.job_index, self.label, self.day)


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


def _bar_columns(label: str) -> tuple[Any, ...]:
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return (
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.fields[count]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
    )


class RichBatchProgress:
    """Progress of a batch: done of total, failed and running jobs, elapsed and ETA, a closing summary.

    On a terminal this is a live bar; on a pipe or file it is one line per finished job.
    """

    def __init__(self, total: int, console: Any = None) -> None:
        from rich.console import Console

        self.total = total
        self.console = console or Console(stderr=True)
        self._lock = threading.Lock()
        self._done = 0
        self._failed = 0
        self._cached = 0
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._current: dict[int, ProgressEvent] = {}
        self._finished: set[int] = set()

    def __enter__(self) -> RichBatchProgress:
        from rich.progress import Progress

        if self.console.is_terminal:
            self._progress = Progress(*_bar_columns("[bold]simulations"), console=self.console)
            self._progress.start()
            self._task = self._progress.add_task("", total=self.total, count=self._count())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def on_event(self, event: ProgressEvent) -> None:
        """Track the running jobs' phases (an ``on_progress`` callback); a ``done`` event ends a job."""
        if event.job_index is None:
            return
        with self._lock:
            if event.phase == "done":
                self._current.pop(event.job_index, None)
                line = self._done_line(event) if self._progress is None else None
            else:
                line = None
                if event.job_index not in self._finished:
                    self._current[event.job_index] = event
        if line is not None:
            self.console.print(line, highlight=False, soft_wrap=True)
        self._refresh()

    def job_done(self, index: int, success: bool, cached: bool = False) -> None:
        """Count one finished job."""
        with self._lock:
            self._finished.add(index)
            self._current.pop(index, None)
            self._done += 1
            self._failed += not success
            self._cached += cached
        self._refresh(advance=1)

    def summary(self, succeeded: int, failed: int, wall_seconds: float) -> None:
        """One closing line: how many succeeded, failed and came from the cache."""
        cached = f", {self._cached} from the cache" if self._cached else ""
        colour = "green" if failed == 0 else "red"
        self.console.print(
            f"[{colour}]{succeeded} succeeded, {failed} failed[/]{cached} in {wall_seconds:.1f} s",
            highlight=False,
        )

    @property
    def running(self) -> int:
        """How many jobs have started and not finished."""
        with self._lock:
            return len(self._current)

    def _count(self) -> str:
        return f"{self._done}/{self.total}"

    def _done_line(self, event: ProgressEvent) -> str:
        from rich.markup import escape

        colour = "red" if event.message == "failed" else "green"
        name = escape(event.label or f"job {event.job_index}")
        return f"[{self._done}/{self.total}] {name} [{colour}]{event.message}[/]"

    def _refresh(self, advance: int = 0) -> None:
        if self._progress is None or self._task is None:
            return
        with self._lock:
            description = self._describe()
            count = self._count()
        self._progress.update(self._task, advance=advance, description=description, count=count)

    def _describe(self) -> str:
        running = len(self._current)
        phases = ", ".join(sorted({event.phase for event in self._current.values()}))
        parts = [f"{running} running ({phases})"] if running else []
        if self._failed:
            parts.append(f"[red]{self._failed} failed[/]")
        if self._cached:
            parts.append(f"{self._cached} cached")
        return ", ".join(parts)


class RichRunProgress:
    """Progress of one run: each environment with its simulated day, a bar, elapsed and ETA on a terminal;
    one line per environment on a pipe or file."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.environments: list[str] = []
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._phase = ""

    def __enter__(self) -> RichRunProgress:
        from rich.progress import Progress

        if self.console.is_terminal:
            self._progress = Progress(*_bar_columns("{task.fields[name]}"), console=self.console)
            self._progress.start()
            self._task = self._progress.add_task("starting", total=100, name="[bold]EnergyPlus", count="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def on_event(self, event: ProgressEvent) -> None:
        """Show where the run is (an ``on_progress`` callback for `simulate`)."""
        from rich.markup import escape

        new_environment = (
            event.phase == "simulating"
            and event.environment is not None
            and (not self.environments or self.environments[-1] != event.environment)
        )
        if new_environment:
            assert event.environment is not None
            self.environments.append(event.environment)
        number = len(self.environments)
        kind = "design day" if event.design_day else "run period"
        if self._progress is None or self._task is None:
            if new_environment:
                self.console.print(
                    f"environment {number}: {escape(str(event.environment))} ({kind}, from {event.day})",
                    highlight=False,
                    soft_wrap=True,
                )
            elif event.phase in ("finished", "failed") and event.phase != self._phase:
                self.console.print(f"EnergyPlus {event.phase}: {escape(event.message)}", highlight=False)
            self._phase = event.phase
            return
        if new_environment:
            if number == 1:  # the start-up line (sizing, warm-up) gives way to the first environment
                self._progress.remove_task(self._task)
            else:
                self._progress.update(self._task, completed=100)
            self._task = self._progress.add_task("", total=100, name="", count="")
        name = f"[bold]{number}. {escape(event.environment)}[/]" if event.environment else "[bold]EnergyPlus"
        day = f"{kind} {event.day}" if event.day and event.phase == "simulating" else event.phase
        completed = event.percent if event.percent is not None else None
        self._progress.update(self._task, name=name, description=day, completed=completed)
        self._phase = event.phase

"""The run status file: what happened in a run, written next to its outputs so a re-opened result knows."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from epcloud.errors import CorruptResultError

__all__ = ["STATUS_FILENAME", "STATUS_FORMAT", "RunStatus"]

STATUS_FILENAME = "run-status.json"
STATUS_FORMAT = 2  # the newest format this epcloud reads
# Format 2 adds `output_suffix`. A run with legacy names is still written as format 1, so older epcloud
# versions keep reading it; one with other names is format 2, which they refuse with "upgrade epcloud".
_LEGACY_FORMAT = 1


@dataclass(frozen=True)
class RunStatus:
    """Outcome and provenance of one run. Never holds credentials or absolute store locations."""

    success: bool
    exit_code: int | None
    runtime_seconds: float
    energyplus_version: str
    epcloud_version: str
    model_sha256: str
    weather_sha256: str | None
    output_prefix: str = "eplus"
    output_suffix: str = "L"  # EnergyPlus's output naming: L (eplusout.sql), C (eplus.sql), D (eplus.sql)
    timed_out: bool = False
    energyplus_build: str = ""
    weather_name: str | None = None
    started_at: str = ""
    finished_at: str = ""
    warning_count: int = 0
    severe_count: int = 0
    fatal_message: str | None = None
    flags: dict[str, Any] = field(default_factory=dict)
    # Name → size of every file in the run folder when the run ended (this file excepted): a store
    # reader fetches an output with one GET, no listing needed.
    outputs: dict[str, int] = field(default_factory=dict)
    format: int = _LEGACY_FORMAT

    def __post_init__(self) -> None:
        if self.output_suffix != "L" and self.format < STATUS_FORMAT:
            object.__setattr__(self, "format", STATUS_FORMAT)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, source: str = STATUS_FILENAME) -> RunStatus:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CorruptResultError(f"{source}: not valid JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise CorruptResultError(f"{source}: expected a JSON object, found {type(data).__name__}")
        if int(data.get("format", 0)) > STATUS_FORMAT:
            raise CorruptResultError(
                f"{source}: written by a newer epcloud (status format {data['format']}, this one reads "
                f"{STATUS_FORMAT}); upgrade epcloud"
            )
        required = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]
        missing = [name for name in required if name not in data]
        if missing:
            raise CorruptResultError(f"{source}: missing fields {', '.join(missing)}")
        if data.get("output_suffix", "L") not in ("L", "C", "D"):
            raise CorruptResultError(f"{source}: output_suffix {data['output_suffix']!r} is not L, C or D")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def write(self, run_dir: Path) -> Path:
        """Write atomically (temp file + rename): a reader never sees half a status."""
        target = run_dir / STATUS_FILENAME
        fd, tmp = tempfile.mkstemp(dir=run_dir, prefix=".run-status-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(self.to_json())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

"""The pilot of a study: its first job's design days, run here before the study is written, so a model
that fails or lacks a requested series costs one short local run instead of a fleet of workers."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from epcloud.errors import PilotError

if TYPE_CHECKING:
    from epcloud.study.manifest import JobEntry, VariableRequest

__all__ = ["run_pilot"]

log = logging.getLogger(__name__)


def run_pilot(
    entry: JobEntry,
    text: str,
    suffix: str,
    weather: Path | None,
    requests: Sequence[VariableRequest],
    energyplus: object = None,
) -> None:
    """Run ``entry``'s model (its edits applied) for its design days; `PilotError` if it fails or a
    requested variable is not reported. Nothing is kept."""
    from epcloud.run.simulate import simulate
    from epcloud.study.sweep import variant_model

    with tempfile.TemporaryDirectory(prefix="epcloud-pilot-") as folder:
        model = Path(folder) / f"model{suffix}"
        model.write_text(text, encoding="utf-8")
        runnable = variant_model(model, entry.edits)
        label = entry.label or entry.id
        log.info("pilot: running the design days of %s", label)
        result = simulate(
            runnable,
            weather,
            output_dir=Path(folder) / "run",
            design_day=True,
            energyplus=energyplus,  # type: ignore[arg-type]
            expand_objects=bool(entry.flags.get("expand_objects", True)),
            timeout=float(entry.flags.get("timeout", 3600.0)),
        )
        try:
            if not result.success:
                fatal = result.errors.fatal[0].message if result.errors.fatal else "no error message"
                raise PilotError(
                    f"pilot run of job {label!r} (design days) failed: {fatal}; nothing was written. "
                    "Fix the model or the parameters and create the study again."
                )
            reported = {v.name.upper() for v in result.sql.list_variables()}
            missing = [r.name for r in requests if r.name.upper() not in reported]
            if missing:
                raise PilotError(
                    f"pilot run of job {label!r}: EnergyPlus does not report {missing} for this model "
                    "(check the spelling against its .rdd/.mdd files); nothing was written"
                )
        finally:
            result.close()
    log.info("pilot: %s ran and reports every requested variable", label)

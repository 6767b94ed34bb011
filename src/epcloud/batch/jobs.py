"""`SimulationJob`: one run of a batch, a plain value that travels to threads, processes and clusters."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from epcloud.model import IDFDocument
from epcloud.run.prepare import ModelInput, RunOptions

__all__ = ["SimulationJob"]


@dataclass(frozen=True)
class SimulationJob:
    """A model, its weather, the run flags, and where the outputs go (a folder, or a path in the store).

    ``model`` may be an `IDFDocument`, a model file path or IDF text; a pickled job carries a document as
    IDF text, so jobs cross to other processes and machines without live objects.
    """

    model: ModelInput
    weather: str | os.PathLike[str] | None
    label: str = ""
    output_dir: str | os.PathLike[str] | None = None
    expand_objects: bool = True
    annual: bool = False
    design_day: bool = False
    output_prefix: str = "eplus"
    readvars: bool = False
    timeout: float = 3600.0
    extra_args: Sequence[str] | None = field(default=None)

    def __post_init__(self) -> None:
        if self.extra_args is not None:
            object.__setattr__(self, "extra_args", tuple(self.extra_args))
        self.options()  # a job with contradictory flags fails here, not in the middle of a batch

    def options(self) -> RunOptions:
        """The job's run flags (its fields named as `RunOptions`'s)."""
        return RunOptions(**{f.name: getattr(self, f.name) for f in fields(RunOptions)})

    def __getstate__(self) -> dict[str, Any]:
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        if isinstance(self.model, IDFDocument):
            state["model"] = self.model.to_idf()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

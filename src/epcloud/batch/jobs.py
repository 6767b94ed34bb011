"""`SimulationJob`: one run of a batch, a plain value that travels to threads, processes and clusters."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from epcloud.model import IDFDocument
from epcloud.run.prepare import ModelInput, RunOptions

__all__ = ["SimulationJob"]


@dataclass(frozen=True)
class SimulationJob:
    """A model, its weather, the run flags, and where the outputs go (a folder, or a path in the store).

    ``model`` may be an `IDFDocument`, a model file path or IDF text; a pickled job carries a document as
    IDF text, so jobs cross to other processes and machines without live objects. ``output_suffix`` and
    ``preprocessor_timeout`` are as in `simulate` (EnergyPlus's output naming; ExpandObjects' own limit).
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
    output_suffix: str = "L"
    preprocessor_timeout: float | None = None

    def __post_init__(self) -> None:
        if self.extra_args is not None:
            object.__setattr__(self, "extra_args", tuple(self.extra_args))
        options = self.options()  # a job with contradictory flags fails here, not in the middle of a batch
        object.__setattr__(self, "output_suffix", options.output_suffix)  # "c" is "C", as in EnergyPlus

    def options(self) -> RunOptions:
        """The job's run flags (its fields named as `RunOptions`'s)."""
        return RunOptions(**{f.name: getattr(self, f.name) for f in fields(RunOptions)})

    def to_dict(self) -> dict[str, Any]:
        """The job as JSON values: the model as IDF text (epJSON text for an .epJSON file), the weather as
        its path or URL, every option; `from_dict` reads it back."""
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        model = self.model
        if isinstance(model, IDFDocument):
            data["model"], data["model_format"] = model.to_idf(), "idf"
        else:
            from epcloud.model.load import read_model_text

            text, source = read_model_text(model)
            is_json = source.lower().endswith(".epjson") or text.lstrip().startswith("{")
            data["model"], data["model_format"] = text, "epjson" if is_json else "idf"
        for key in ("weather", "output_dir"):
            if data[key] is not None:
                data[key] = os.fspath(data[key])
        data["extra_args"] = None if self.extra_args is None else list(self.extra_args)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SimulationJob:
        """A job from `to_dict`'s values; unknown keys are an error naming the known ones."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k != "model_format"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown job fields {unknown}; a job has {sorted(known)}")
        if "model" not in values:
            raise ValueError("a job needs `model` (IDF or epJSON text, or a model file path)")
        if "weather" not in values:
            values["weather"] = None
        return cls(**values)

    def __getstate__(self) -> dict[str, Any]:
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        if isinstance(self.model, IDFDocument):
            state["model"] = self.model.to_idf()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

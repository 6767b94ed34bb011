"""Parametric sweeps of a model: a YAML/JSON sweep file (or the same fields in Python), its parameters,
samples and jobs.

A field parameter sets one field of one object (or of every object of a type) of the base model; a
function parameter (`Parameter.apply`) edits the model in Python; a shoebox parameter is a field of the
built-in `Shoebox`. Every sample runs with each weather file.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epcloud.errors import EpcloudError, SweepError
from epcloud.model import IDFDocument, Shoebox, load_epjson, load_idf
from epcloud.study.collect import JOB_COLUMNS, MISSING_COLUMN
from epcloud.study.sampling import Axis, Design, make_design

if TYPE_CHECKING:
    from epcloud.batch.jobs import SimulationJob
    from epcloud.storage import FileSystem

__all__ = ["Edit", "Parameter", "Sweep", "apply_edits", "variant_model"]

log = logging.getLogger(__name__)

Edit = tuple[str, str, str, Any]
"""(object type, object name or "*", field, value): one field a job's variant sets on the base model."""

_OPTIONS = ("annual", "design_day", "expand_objects", "readvars", "timeout", "output_prefix", "extra_args")
_TOP_KEYS = ("model", "weather", "parameters", "sampling", "variables", *_OPTIONS)
_PARAM_KEYS = ("object", "name", "field", "values", "low", "high")
_SAMPLING_KEYS = ("method", "samples", "seed", "levels")
# columns of the jobs table that a parameter's column would clash with
_RESERVED = frozenset({"sample", "weather", MISSING_COLUMN, *JOB_COLUMNS})


@dataclass(frozen=True)
class Parameter:
    """One knob of a sweep: discrete ``values`` or a ``low``..``high`` range for the samplers.

    With ``object``/``field`` it sets that field of the object named ``object_name`` ("*": every object
    of the type); with ``function`` it calls ``function(model, value)``; with neither it is a field of
    the built-in `Shoebox` (the sweep's model must then be ``{"shoebox": {...}}``).
    """

    name: str
    object: str | None = None
    object_name: str = "*"
    field: str | None = None
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    function: Callable[[IDFDocument, Any], IDFDocument | None] | None = dataclass_field(
        default=None, compare=False
    )

    def __post_init__(self) -> None:
        if self.values is not None:
            object.__setattr__(self, "values", tuple(self.values))

    @classmethod
    def apply(
        cls,
        name: str,
        function: Callable[[IDFDocument, Any], IDFDocument | None],
        *,
        values: Sequence[Any] | None = None,
        low: float | None = None,
        high: float | None = None,
    ) -> Parameter:
        """A measure that edits the model in Python: ``function(model, value)`` changes ``model`` in place
        (or returns a new one). Its models are built when the study is created, and stored once each."""
        return cls(
            name, values=None if values is None else tuple(values), low=low, high=high, function=function
        )

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any], where: str) -> Parameter:
        """A parameter from its entry in a sweep file (``name`` there is the object's name)."""
        if not isinstance(data, Mapping):
            raise SweepError(f"{where}: expected a mapping of {list(_PARAM_KEYS)}, got {data!r}")
        unknown = sorted(set(data) - set(_PARAM_KEYS))
        if unknown:
            raise SweepError(f"{where}: unknown keys {unknown}; a parameter takes {list(_PARAM_KEYS)}")
        values = data.get("values")
        if values is not None and (isinstance(values, (str, Mapping)) or not isinstance(values, Sequence)):
            raise SweepError(f"{where}.values: expected a list of values, got {values!r}")
        return cls(
            name,
            object=data.get("object"),
            object_name=str(data.get("name", "*")),
            field=data.get("field"),
            values=None if values is None else tuple(values),
            low=data.get("low"),
            high=data.get("high"),
        )

    @property
    def kind(self) -> str:
        """ "field", "function" or "shoebox"."""
        if self.function is not None:
            return "function"
        return "field" if self.object is not None or self.field is not None else "shoebox"

    def axis(self, where: str) -> Axis:
        """The parameter as the samplers see it; checks that it has values or a range, not both."""
        has_range = self.low is not None or self.high is not None
        if self.values is not None and has_range:
            raise SweepError(f"{where}: give either `values` or `low`/`high`, not both")
        if self.values is not None:
            if not self.values:
                raise SweepError(f"{where}.values: the list is empty")
            return Axis(self.name, values=self.values)
        if self.low is None or self.high is None:
            raise SweepError(f"{where}: give `values: [...]`, or both `low` and `high`")
        for key in ("low", "high"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SweepError(f"{where}.{key}: expected a number, got {value!r}")
        if not self.low < self.high:
            raise SweepError(f"{where}: low ({self.low}) must be below high ({self.high})")
        return Axis(self.name, low=float(self.low), high=float(self.high))

    def record(self) -> dict[str, Any]:
        """The parameter as JSON, as the study keeps it (a function by its qualified name)."""
        data: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.kind == "field":
            data.update(object=self.object, object_name=self.object_name, field=self.field)
        if self.function is not None:
            data["function"] = getattr(self.function, "__qualname__", repr(self.function))
        if self.values is not None:
            data["values"] = list(self.values)
        else:
            data.update(low=self.low, high=self.high)
        return data


def _load_yaml_or_json(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SweepError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if suffix not in (".yaml", ".yml"):
        raise SweepError(f"{path}: a sweep file ends in .yaml, .yml or .json")
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError as exc:
        raise SweepError(f"{path}: reading YAML needs PyYAML: pip install 'epcloud[sweep]'") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise SweepError(f"{path}: not valid YAML{line}: {getattr(exc, 'problem', exc)}") from None


def _is_url(text: str) -> bool:
    return text.startswith(("s3://", "https://", "http://"))


class Sweep:
    """A parametric study of one model: its parameters, how they are sampled, the weather files and the
    run options; `samples()` and `jobs()` give its runs, `Study.create(fs, sweep)` stores them at scale.

    Args:
        model: a model path, an ``s3://``/``https://`` URL, a path in the study's store, an `IDFDocument`,
            or ``{"shoebox": {...}}`` (the built-in Shoebox with these fixed parameters).
        parameters: `Parameter`s, or a mapping of name to the fields a sweep file gives.
        weather: one weather file or several; every sample runs with each.
        sampling: ``{"method": "grid" | "random" | "lhs" | "sobol" | "morris", "samples": n, "seed": s,
            "levels": 4}``.
        variables: output series every job keeps (as `Study.create(variables=...)`).
        options: the run options of `SimulationJob` (``annual=True``, ``design_day=True``, ``timeout``...).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | IDFDocument | Mapping[str, Any],
        parameters: Sequence[Parameter] | Mapping[str, Mapping[str, Any]],
        *,
        weather: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        sampling: Mapping[str, Any] | None = None,
        variables: Sequence[Any] = (),
        source: str = "Sweep",
        **options: Any,
    ) -> None:
        self.source = source
        self.model = model
        if isinstance(parameters, Mapping):
            where = f"{source}: parameters"
            self.parameters = [
                Parameter.from_dict(str(name), spec, f"{where}.{name}") for name, spec in parameters.items()
            ]
        else:
            self.parameters = list(parameters)
        names = [p.name for p in self.parameters]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise SweepError(f"{source}: parameters {duplicated} are given more than once")
        taken = sorted(set(names) & _RESERVED)
        if taken:
            raise SweepError(
                f"{source}: parameters {taken} have names of columns every study table has; rename them"
            )
        if weather is None or isinstance(weather, (str, os.PathLike)):
            self.weather: list[str | os.PathLike[str] | None] = [weather]
        else:
            self.weather = list(weather)
            if not self.weather:
                raise SweepError(f"{source}: weather: the list is empty")
        self.weather = [_bundled_weather(w) for w in self.weather]
        sampling = dict(sampling or {})
        unknown = sorted(set(sampling) - set(_SAMPLING_KEYS))
        if unknown:
            raise SweepError(f"{source}: sampling: unknown keys {unknown}; it takes {list(_SAMPLING_KEYS)}")
        self.method = str(sampling.get("method", "grid"))
        self.samples_count: int | None = sampling.get("samples")
        self.seed: int | None = sampling.get("seed")
        self.levels: int = sampling.get("levels", 4)
        self.variables = list(variables)
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise SweepError(f"{source}: unknown keys {unknown}; a sweep takes {list(_TOP_KEYS)}")
        self.options = options
        self._base: IDFDocument | None = None
        self._base_text: tuple[str, str] | None = None  # (text, suffix) of a base model read from a file
        self._design: Design | None = None

    def __repr__(self) -> str:
        return f"<Sweep {self.source}: {len(self.parameters)} parameters, {self.method}>"

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Sweep:
        """A sweep from a ``.yaml``/``.yml``/``.json`` file; its relative paths are relative to the file."""
        path = Path(path)
        if not path.is_file():
            raise SweepError(f"{path}: no such sweep file")
        data = _load_yaml_or_json(path)
        if not isinstance(data, Mapping):
            raise SweepError(f"{path}: expected a mapping with model, parameters, sampling...")
        unknown = sorted(set(data) - set(_TOP_KEYS))
        if unknown:
            raise SweepError(f"{path}: unknown keys {unknown}; a sweep file takes {list(_TOP_KEYS)}")
        for key in ("model", "parameters"):
            if key not in data:
                raise SweepError(f"{path}: `{key}:` is missing")
        if not isinstance(data["parameters"], Mapping) or not data["parameters"]:
            raise SweepError(f"{path}: parameters: expected a mapping of parameter names to their fields")
        here = path.resolve().parent
        model = data["model"]
        if isinstance(model, str) and not _is_url(model) and (here / model).exists():
            model = str(here / model)
        weather = data.get("weather")
        if weather is not None:
            many = weather if isinstance(weather, list) else [weather]
            resolved = [
                str(here / w) if not _is_url(str(w)) and (here / str(w)).exists() else w for w in many
            ]
            weather = resolved if isinstance(weather, list) else resolved[0]
        options = {k: data[k] for k in _OPTIONS if k in data}
        sampling = data.get("sampling")
        if sampling is not None and not isinstance(sampling, Mapping):
            raise SweepError(f"{path}: sampling: expected a mapping of {list(_SAMPLING_KEYS)}")
        return cls(
            model,
            data["parameters"],
            weather=weather,
            sampling=sampling,
            variables=data.get("variables") or (),
            source=str(path),
            **options,
        )

    # ------------------------------------------------------------ the base model

    @property
    def shoebox(self) -> dict[str, Any] | None:
        """The fixed Shoebox parameters when the model is the built-in shoebox, else None."""
        if isinstance(self.model, Mapping):
            if set(self.model) != {"shoebox"}:
                raise SweepError(f"{self.source}: model: a mapping must be {{shoebox: {{...}}}}")
            return dict(self.model["shoebox"] or {})
        return None

    def base_model(self, fs: FileSystem | None = None) -> IDFDocument:
        """The model every variant starts from (read once; a store path is read from ``fs``)."""
        if self._base is None:
            self._base = self._read_base(fs)
        return self._base

    def _read_base(self, fs: FileSystem | None) -> IDFDocument:
        where = f"{self.source}: model"
        shoebox = self.shoebox
        if shoebox is not None:
            return self._shoebox_doc(shoebox, where)
        if isinstance(self.model, IDFDocument):
            return self.model
        if isinstance(self.model, Mapping):
            raise SweepError(f"{where}: expected a path, a URL or {{shoebox: {{...}}}}")
        name = os.fspath(self.model)
        try:
            text = self._model_text(name, fs)
        except EpcloudError as exc:
            raise SweepError(f"{where}: {exc}") from exc
        is_json = name.lower().endswith(".epjson") or text.lstrip().startswith("{")
        self._base_text = (text, ".epJSON" if is_json else ".idf")
        try:
            if is_json:
                return load_epjson(text)
            return load_idf(text, source=name)
        except EpcloudError as exc:
            raise SweepError(f"{where}: {name} cannot be read: {exc}") from exc

    def _model_text(self, name: str, fs: FileSystem | None) -> str:
        where = f"{self.source}: model"
        if name.startswith("s3://"):
            from epcloud.storage import open_fs

            store, _, key = name.rpartition("/")
            return open_fs(store).read_text(key)
        if name.startswith(("https://", "http://")):
            import urllib.error  # here: only a sweep of a model on the web needs the HTTP client
            import urllib.request

            try:
                with urllib.request.urlopen(name, timeout=60) as response:
                    return str(response.read().decode("utf-8-sig"))
            except (urllib.error.URLError, OSError) as exc:
                raise SweepError(f"{where}: {name} cannot be downloaded: {exc}") from None
        path = Path(name).expanduser()
        if path.is_file():
            return path.read_text(encoding="utf-8-sig", errors="replace")
        if fs is not None and fs.exists(name):
            return fs.read_text(name)
        store = f" or in the store {fs.url()}" if fs is not None else ""
        raise SweepError(f"{where}: no model file {name!r} (looked on this machine{store})")

    def _shoebox_doc(self, values: Mapping[str, Any], where: str) -> IDFDocument:
        known = Shoebox.parameter_names()
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise SweepError(f"{where}.shoebox: unknown Shoebox parameters {unknown}; it has {known}")
        try:
            return load_idf(Shoebox(**values).to_idf(), source="shoebox")
        except (TypeError, ValueError) as exc:
            raise SweepError(f"{where}.shoebox: {exc}") from None

    # ------------------------------------------------------------ checking and sampling

    def validate(self, fs: FileSystem | None = None) -> None:
        """Check every parameter on the base model (object type, object, field, each value) and the
        sampling rules; `SweepError` names the parameter, the path and what is wrong."""
        from epcloud.batch.jobs import SimulationJob
        from epcloud.study.sweep_check import check_field_parameter, schema_facts

        try:
            SimulationJob("Version,25.2;", None, **self.options)
        except (TypeError, ValueError) as exc:
            raise SweepError(f"{self.source}: run options: {exc}") from None
        base = self.base_model(fs)
        shoebox = self.shoebox
        pairs = [(p.object, p.field) for p in self.parameters if p.kind == "field" and p.object and p.field]
        facts = schema_facts(base, pairs)
        for param in self.parameters:
            where = f"{self.source}: parameters.{param.name}"
            axis = param.axis(where)
            candidates = list(axis.values) if axis.values is not None else [axis.low, axis.high]
            if param.kind == "field":
                if not param.object or not param.field:
                    raise SweepError(f"{where}: a field parameter needs both `object:` and `field:`")
                check_field_parameter(
                    base, where, param.object, param.object_name, param.field, candidates, facts
                )
            elif param.kind == "shoebox":
                if shoebox is None:
                    raise SweepError(
                        f"{where}: no `object:`/`field:` given; only a {{shoebox: ...}} model takes "
                        "parameters by name alone"
                    )
                for value in candidates:
                    self._shoebox_doc({**shoebox, param.name: value}, where)
        self.design()
        for weather in self.weather:
            if weather is not None and not _is_url(os.fspath(weather)) and not Path(weather).is_file():
                raise SweepError(f"{self.source}: weather: no such file {os.fspath(weather)!r}")

    def design(self) -> Design:
        """The sampling design (computed once; the same for the same seed)."""
        if self._design is None:
            axes = [p.axis(f"{self.source}: parameters.{p.name}") for p in self.parameters]
            self._design = make_design(
                self.method,
                axes,
                samples=self.samples_count,
                seed=self.seed,
                levels=self.levels,
                where=f"{self.source}: sampling",
            )
        return self._design

    def samples(self) -> list[dict[str, Any]]:
        """One dict of parameter values per sample, reproducible from the seed."""
        return [dict(row) for row in self.design().rows]

    def record(self) -> dict[str, Any]:
        """The sweep as a study keeps it in its metadata (what `sensitivity` needs to rebuild the design)."""
        return {
            "method": self.method,
            "samples": self.samples_count,
            "seed": self.seed,
            "levels": self.levels,
            "parameters": [p.record() for p in self.parameters],
            "weather": [None if w is None else Path(os.fspath(w)).name for w in self.weather],
            "model": "shoebox"
            if self.shoebox is not None
            else str(getattr(self.model, "source", self.model)),
        }

    # ------------------------------------------------------------ variants

    def edits(self, sample: Mapping[str, Any]) -> list[Edit]:
        """The field edits of one sample, in parameter order."""
        return [
            (str(p.object), p.object_name, str(p.field), sample[p.name])
            for p in self.parameters
            if p.kind == "field"
        ]

    def model_key(self, sample: Mapping[str, Any]) -> tuple[Any, ...]:
        """What makes a sample's model differ from the base before field edits (function and shoebox
        values); samples with the same key share one stored model."""
        return tuple(sample[p.name] for p in self.parameters if p.kind != "field")

    def premodel(self, sample: Mapping[str, Any], fs: FileSystem | None = None) -> IDFDocument:
        """The model of a sample before its field edits: the base, a shoebox of its values, or the base
        after its function parameters."""
        shoebox = self.shoebox
        if shoebox is not None and any(p.kind == "shoebox" for p in self.parameters):
            values = {**shoebox, **{p.name: sample[p.name] for p in self.parameters if p.kind == "shoebox"}}
            doc = self._shoebox_doc(values, f"{self.source}: model")
        else:
            doc = self.base_model(fs).copy()
        for param in self.parameters:
            if param.function is not None:
                changed = param.function(doc, sample[param.name])
                if changed is not None:
                    if not isinstance(changed, IDFDocument):
                        raise SweepError(
                            f"{self.source}: parameters.{param.name}: the function returned a "
                            f"{type(changed).__name__}; it must change the model in place or return one"
                        )
                    doc = changed
        return doc

    def premodel_text(self, sample: Mapping[str, Any], fs: FileSystem | None = None) -> tuple[str, str]:
        """(text, suffix) of `premodel`: the base model's file as it is when no parameter changes the
        model before its field edits, else the edited model as IDF."""
        if not self.model_key(sample):
            self.base_model(fs)
            if self._base_text is not None:
                return self._base_text
        return self.premodel(sample, fs).to_idf(comments=False), ".idf"

    def variant(self, sample: Mapping[str, Any], fs: FileSystem | None = None) -> IDFDocument:
        """The complete model of one sample."""
        doc = self.premodel(sample, fs)
        apply_edits(doc, self.edits(sample))
        return doc

    def labels(self) -> Iterator[tuple[int, dict[str, Any], str | os.PathLike[str] | None, str]]:
        """(sample number, sample, weather, label) of every job, samples first, then each weather."""
        several = len(self.weather) > 1
        for number, sample in enumerate(self.samples()):
            text = ",".join(f"{k}={_short(v)}" for k, v in sample.items())
            for weather in self.weather:
                suffix = f"@{Path(os.fspath(weather)).stem}" if several and weather is not None else ""
                yield number, sample, weather, f"s{number:05d} {text}{suffix}"

    def job_parameters(self, number: int, sample: Mapping[str, Any], weather: Any) -> dict[str, Any]:
        """The parameter values a job records: the sample's, its number, and its weather file's name."""
        params = {**sample, "sample": number}
        if len(self.weather) > 1 and weather is not None:
            params["weather"] = Path(os.fspath(weather)).name
        return params

    def jobs(self, output_dir: str | os.PathLike[str] | None = None) -> list[SimulationJob]:
        """The `SimulationJob` of every sample and weather file, labelled from their parameters."""
        from epcloud.batch.jobs import SimulationJob

        self.validate()
        models: dict[tuple[Any, ...], IDFDocument] = {}
        jobs = []
        for number, sample, weather, label in self.labels():
            key = self.model_key(sample)
            if key not in models:
                models[key] = self.premodel(sample)
            doc = models[key].copy()
            apply_edits(doc, self.edits(sample))
            folder = None
            if output_dir is not None:
                folder = Path(output_dir) / f"s{number:05d}{_weather_tag(weather, len(self.weather))}"
            jobs.append(SimulationJob(doc, weather, label=label, output_dir=folder, **self.options))
        return jobs


def _weather_tag(weather: Any, count: int) -> str:
    return f"-{Path(os.fspath(weather)).stem}" if count > 1 and weather is not None else ""


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def apply_edits(doc: IDFDocument, edits: Sequence[Sequence[Any]]) -> IDFDocument:
    """Set each (object type, name or "*", field, value) on ``doc``, in place; returns ``doc``."""
    for object_type, name, field_name, value in edits:
        targets = list(doc[object_type]) if name == "*" else [doc[object_type][name]]
        for obj in targets:
            obj[field_name] = value
    return doc


@functools.lru_cache(maxsize=8)
def _parsed(path: str) -> IDFDocument:
    return load_epjson(path) if path.lower().endswith(".epjson") else load_idf(path)


def variant_model(model_path: os.PathLike[str] | str, edits: Sequence[Sequence[Any]] | None) -> str:
    """The model a study job runs: its stored model, with the job's field edits applied (IDF text), or
    the stored model's path when it has none. Each stored model is parsed once per worker process."""
    path = os.fspath(model_path)
    if not edits:
        return path
    return apply_edits(_parsed(path).copy(), edits).to_idf()


def _bundled_weather(weather: str | os.PathLike[str] | None) -> str | os.PathLike[str] | None:
    """A bare file name that is no file here but one the engine ships (``USA_IL_Chicago-...epw``) is that
    bundled file; anything else is kept as given."""
    if weather is None or not isinstance(weather, str) or "/" in weather or "\\" in weather:
        return weather
    if Path(weather).exists() or _is_url(weather):
        return weather
    from epcloud.engine import find_energyplus
    from epcloud.errors import EpcloudError

    try:
        folder = find_energyplus().weather_dir
    except EpcloudError:
        return weather
    bundled = Path(folder) / weather if folder is not None else None
    return str(bundled) if bundled is not None and bundled.is_file() else weather


def describe_record(record: Mapping[str, Any]) -> str:
    """One line describing a recorded sweep (`Sweep.record()`): its design and each parameter's range."""
    parts = []
    for param in record.get("parameters", ()):
        if param.get("values") is not None:
            shown = ", ".join(str(v) for v in param["values"][:6])
            more = ", ..." if len(param["values"]) > 6 else ""
            parts.append(f"{param['name']} [{shown}{more}]")
        else:
            parts.append(f"{param['name']} {param.get('low')}..{param.get('high')}")
    weather = [w for w in record.get("weather") or () if w]
    each = f", each with {len(weather)} weather files" if len(weather) > 1 else ""
    return f"parameters ({record.get('method')}{each}): {'; '.join(parts)}"


def parameter_names(record: Mapping[str, Any]) -> list[str]:
    """The names of a recorded sweep's parameters, plus ``weather`` when it has several weather files."""
    names = [str(param["name"]) for param in record.get("parameters", ())]
    if len([w for w in record.get("weather") or () if w]) > 1:
        names.append("weather")
    return names

"""Preparing one run: the model copy with guaranteed outputs, the weather file, the engine command.

Everything here is the same for `simulate` and `async_simulate`; only launching the process differs.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from epcloud.engine import EnergyPlusConfig, default_energyplus, find_energyplus
from epcloud.errors import ModelFileNotFoundError, VersionMismatchError, WeatherFileNotFoundError
from epcloud.model import IDFDocument, get_schema, load_epjson, load_idf
from epcloud.model.load import read_model_text
from epcloud.rundir.naming import LEGACY, check_output_suffix

__all__ = ["ModelInput", "RunOptions", "RunPlan", "prepare_run", "resolve_engine"]

ModelInput = IDFDocument | str | os.PathLike[str]
EngineInput = EnergyPlusConfig | str | os.PathLike[str] | None

MODEL_STEM = "in"
# Object types that only EnergyPlus's ExpandObjects pre-processor turns into simulation objects.
_EXPANDED_PREFIXES = ("HVACTEMPLATE:", "GROUNDHEATTRANSFER:")


@dataclass(frozen=True)
class RunOptions:
    """The run flags a simulation is asked for (part of its identity for caching)."""

    expand_objects: bool = True
    annual: bool = False
    design_day: bool = False
    output_prefix: str = "eplus"
    readvars: bool = False
    timeout: float = 3600.0
    extra_args: tuple[str, ...] = ()
    output_suffix: str = LEGACY  # EnergyPlus's output naming: L (eplusout.sql), C (eplus.sql), D
    preprocessor_timeout: float | None = None  # seconds for ExpandObjects; None: `timeout` covers it

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra_args", tuple(self.extra_args or ()))  # any sequence, or None
        object.__setattr__(self, "output_suffix", check_output_suffix(self.output_suffix))
        if self.annual and self.design_day:
            raise ValueError("annual=True and design_day=True exclude each other; choose one")
        for name in ("timeout", "preprocessor_timeout"):
            value = getattr(self, name)
            if value is None and name == "preprocessor_timeout":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be positive (seconds), got {value!r}")
        prefix = self.output_prefix
        if not prefix or any(c in prefix for c in "/\\:") or prefix in (".", ".."):
            raise ValueError(f"output_prefix must be a plain file-name stem, got {prefix!r}")


@dataclass(frozen=True)
class RunPlan:
    """A run ready to launch: model text, weather, engine and flags, with content hashes."""

    engine: EnergyPlusConfig
    model_text: str
    model_suffix: str
    model_sha256: str
    weather: Path | None
    weather_sha256: str | None
    options: RunOptions
    needs_expand: bool
    model_source: str = ""
    env: dict[str, str] = field(default_factory=dict)
    # The IDF text ExpandObjects reads (it reads no epJSON); None: the model file written is IDF already.
    expand_idf_text: str | None = None

    @property
    def model_filename(self) -> str:
        return MODEL_STEM + self.model_suffix

    def command(self, run_dir: Path, expanded: Path | None = None) -> list[str]:
        """The engine's command line for a run in ``run_dir``; of the ``expanded`` model when ExpandObjects
        already ran (see `epcloud.run.expand`), else EnergyPlus expands the model itself if needed."""
        opts = self.options
        cmd = [
            str(self.engine.executable),
            "--output-directory",
            str(run_dir),
            "--output-prefix",
            opts.output_prefix,
        ]
        if opts.output_suffix != LEGACY:
            cmd += ["--output-suffix", opts.output_suffix]
        if self.weather is not None:
            cmd += ["--weather", str(self.weather)]
        if opts.annual:
            cmd.append("--annual")
        if opts.design_day:
            cmd.append("--design-day")
        if self.needs_expand and expanded is None:
            cmd.append("--expandobjects")
        if opts.readvars:
            cmd.append("--readvars")
        cmd += list(opts.extra_args)
        cmd.append(str(expanded if expanded is not None else run_dir / self.model_filename))
        return cmd

    def write_model(self, run_dir: Path) -> Path:
        path = run_dir / self.model_filename
        path.write_text(self.model_text, encoding="utf-8")
        return path


def resolve_engine(energyplus: EngineInput) -> EnergyPlusConfig:
    if energyplus is None:
        return default_energyplus()
    if isinstance(energyplus, EnergyPlusConfig):
        return energyplus
    return find_energyplus(energyplus)


def _is_model_path(model: ModelInput) -> bool:
    """True when ``model`` names a file (not a document, not model text)."""
    if isinstance(model, IDFDocument):
        return False
    return not (isinstance(model, str) and ("\n" in model or ";" in model))


def _load_model(model: ModelInput, engine: EnergyPlusConfig) -> tuple[IDFDocument, str, str | None]:
    """A private copy of the model, loaded with the schema of the engine that will run it, its source
    name, and the IDF text it was read from (None for a document or an epJSON file)."""
    if isinstance(model, IDFDocument):
        return model.copy(), model.source, None
    if _is_model_path(model):
        path = Path(model)
        if not path.is_file():
            raise ModelFileNotFoundError(str(path))
        if path.suffix.lower() == ".epjson":
            return load_epjson(path, schema=get_schema(engine)), str(path), None
    text, source = read_model_text(model)
    return load_idf(text, schema=get_schema(engine), source=source), source, text


def _check_version(doc: IDFDocument, engine: EnergyPlusConfig, source: str) -> None:
    if doc.version is None:
        return
    wanted = ".".join(map(str, engine.version[:2]))
    found = ".".join(doc.version.split(".")[:2])
    if found != wanted:
        raise VersionMismatchError(doc.version, engine.version_string, source)


def ensure_sqlite_output(doc: IDFDocument) -> bool:
    """Make the run write its SQLite file, tabular reports included (needed by `SQLResult`).

    Returns whether the model had to change.
    """
    existing = doc["Output:SQLite"]
    if len(existing) == 0:
        doc.add("Output:SQLite", option_type="SimpleAndTabular")
        return True
    sqlite = existing.one()
    if str(sqlite.option_type or "").lower() != "simpleandtabular":
        sqlite.option_type = "SimpleAndTabular"
        return True
    return False


_SQLITE_OBJECT = "\nOutput:SQLite,\n    SimpleAndTabular;        !- Option Type\n"


def _model_text(doc: IDFDocument, idf_text: str | None, as_epjson: bool) -> str:
    """The text handed to the engine. IDF text the user wrote runs as written (comments and all),
    with the Output:SQLite object appended when missing: no second serialisation on the hot path."""
    had_sqlite = len(doc["Output:SQLite"]) > 0
    changed = ensure_sqlite_output(doc)
    if as_epjson:
        return doc.to_epjson_text()
    if idf_text is None or (changed and had_sqlite):
        return doc.to_idf()
    return idf_text if not changed else idf_text.rstrip() + "\n" + _SQLITE_OBJECT


_hash_lock = threading.Lock()
_file_hashes: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, remembered per (path, size, mtime) so batches hash each weather file once."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _hash_lock:
        known = _file_hashes.get(key)
    if known:
        return known
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    with _hash_lock:
        _file_hashes[key] = value
    return value


def _resolve_weather(weather: str | os.PathLike[str] | None, design_day: bool) -> Path | None:
    if weather is None:
        if design_day:
            return None
        raise WeatherFileNotFoundError("(none given)")
    path = Path(weather).expanduser()
    if not path.is_file():
        raise WeatherFileNotFoundError(str(path))
    return path.resolve()


def prepare_run(
    model: ModelInput,
    weather: str | os.PathLike[str] | None,
    *,
    energyplus: EngineInput = None,
    options: RunOptions | None = None,
) -> RunPlan:
    """Check every input and build the run; raises before anything is started if one is wrong."""
    options = options or RunOptions()
    engine = resolve_engine(energyplus)
    if _is_model_path(model) and not Path(str(model)).is_file():  # the model first: named first
        raise ModelFileNotFoundError(str(model))
    weather_path = _resolve_weather(weather, options.design_day)
    doc, source, idf_text = _load_model(model, engine)
    _check_version(doc, engine, source)
    is_epjson = isinstance(model, (str, os.PathLike)) and str(model).lower().endswith(".epjson")
    text = _model_text(doc, idf_text, is_epjson)
    needs_expand = options.expand_objects and any(
        t.upper().startswith(_EXPANDED_PREFIXES) for t in doc.types()
    )
    return RunPlan(
        engine=engine,
        model_text=text,
        model_suffix=".epJSON" if is_epjson else ".idf",
        model_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        weather=weather_path,
        weather_sha256=file_sha256(weather_path) if weather_path else None,
        options=options,
        needs_expand=needs_expand,
        model_source=source,
        expand_idf_text=doc.to_idf() if needs_expand and is_epjson else None,
    )

"""Step 1: write a study (inputs once, per-shard manifests, then study.json) to a store."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epcloud._version import __version__
from epcloud.batch.jobs import SimulationJob
from epcloud.errors import ModelFileNotFoundError, StudyExistsError, WeatherFileNotFoundError
from epcloud.model import IDFDocument
from epcloud.run.prepare import file_sha256
from epcloud.run.weather_source import fetch_weather
from epcloud.rundir.upload import UploadPolicy
from epcloud.study import layout
from epcloud.study.manifest import (
    STUDY_FORMAT,
    JobEntry,
    StudyInfo,
    VariableRequest,
    shard_json,
    upload_record,
)

if TYPE_CHECKING:
    from epcloud.storage import FileSystem
    from epcloud.study.sweep import Sweep

__all__ = ["DEFAULT_SHARD_SIZE", "create_study", "create_sweep_study", "write_study"]

log = logging.getLogger(__name__)

DEFAULT_SHARD_SIZE = 50
"""Jobs per shard when neither shard_size nor shard_count is given (one array child per shard)."""
_UPLOAD_THREADS = 32
# What an overwrite clears; content-addressed inputs stay (a new study may share them).
_STUDY_OUTPUTS = (
    layout.MANIFEST,
    layout.DONE,
    layout.RESULTS,
    layout.DIGESTS,
    layout.LEASES,
    layout.TIMESERIES,
    "collect",
)


class _Inputs:
    """Each distinct model and weather file of the jobs, hashed once however many jobs share it."""

    def __init__(self, requests: Sequence[VariableRequest] = ()) -> None:
        self.requests = tuple(requests)
        self.models: dict[str, tuple[str, str]] = {}  # sha → (text, suffix)
        self.weather: dict[str, Path] = {}  # sha → local file
        self._by_object: dict[int, tuple[str, str]] = {}
        self._keep: list[object] = []  # keeps memoised objects alive so their ids stay unique
        self._by_text: dict[str, tuple[str, str]] = {}
        self._weather_by_name: dict[str, str | None] = {}

    def model(self, model: object) -> tuple[str, str]:
        """(sha256, suffix) of a job's model: an IDFDocument, IDF text, or a model file path."""
        known = self._by_object.get(id(model))
        if known is not None:
            return known
        if isinstance(model, IDFDocument):
            text, suffix = model.to_idf(), ".idf"
        elif isinstance(model, str) and ("\n" in model or ";" in model):
            text, suffix = model, ".idf"
        else:
            path = Path(os.fspath(model))  # type: ignore[call-overload]
            cached = self._by_text.get(str(path))
            if cached is not None:
                return cached
            if not path.is_file():
                raise ModelFileNotFoundError(str(path))
            text = path.read_text(encoding="utf-8")
            suffix = ".epJSON" if path.suffix.lower() == ".epjson" else ".idf"
        if self.requests:
            text = self._with_outputs(model, text, suffix)
        sha, suffix = self.text(text, suffix)
        self._by_object[id(model)] = (sha, suffix)
        self._keep.append(model)
        if not isinstance(model, (IDFDocument, str)):
            self._by_text[str(model)] = (sha, suffix)
        return sha, suffix

    def text(self, text: str, suffix: str = ".idf") -> tuple[str, str]:
        """(sha256, suffix) of a model's final text, kept to be uploaded once."""
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self.models.setdefault(sha, (text, suffix))
        return sha, suffix

    def _with_outputs(self, model: object, text: str, suffix: str) -> str:
        """The model's text with the output objects the requested variables need."""
        from epcloud.model import load_epjson, load_idf
        from epcloud.study.outputs import add_requested_outputs

        doc = model.copy() if isinstance(model, IDFDocument) else None
        if doc is None:
            doc = load_epjson(text) if suffix == ".epJSON" else load_idf(text, source=str(model)[:200])
        added = add_requested_outputs(doc, self.requests)
        if not added:
            return text
        log.info("added output objects for %s to %s", ", ".join(added), doc.source)
        return doc.to_epjson_text() if suffix == ".epJSON" else doc.to_idf()

    def weather_file(self, weather: str | os.PathLike[str] | None) -> str | None:
        """sha256 of a job's weather file (a local path or URL, fetched once), None for none."""
        if weather is None:
            return None
        name = os.fspath(weather)
        if name in self._weather_by_name:
            return self._weather_by_name[name]
        local = Path(os.fspath(fetch_weather(weather) or name)).expanduser()
        if not local.is_file():
            raise WeatherFileNotFoundError(name)
        sha = file_sha256(local.resolve())
        self.weather.setdefault(sha, local)
        self._weather_by_name[name] = sha
        return sha


def _job_parameters(job: SimulationJob, given: Mapping[str, Any] | None, index: int) -> dict[str, Any]:
    params = dict(given if given is not None else getattr(job, "parameters", None) or {})
    try:
        json.dumps(params)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"job {index}: parameters must be JSON values (numbers, text, booleans): {exc}"
        ) from exc
    return params


def _engine_version(energyplus: object) -> str | None:
    from epcloud.errors import EnergyPlusNotFoundError
    from epcloud.run.prepare import resolve_engine

    try:
        return resolve_engine(energyplus).version_string  # type: ignore[arg-type]
    except EnergyPlusNotFoundError:
        log.info("no EnergyPlus on this machine: the study records no engine version")
        return None


def _refuse_existing(fs: FileSystem, overwrite: bool) -> bool:
    """Whether a study (or the remains of one) is there; raises unless ``overwrite``."""
    present = fs.exists(layout.STUDY_FILE) or bool(fs.list_files(layout.MANIFEST))
    if present and not overwrite:
        raise StudyExistsError(
            f"a study already exists at {fs.url()}; nothing was changed. Open it with Study.open, "
            "choose another location, or pass overwrite=True to replace it (its results are deleted)."
        )
    return present


def _clear(fs: FileSystem, pool: ThreadPoolExecutor) -> None:
    """Delete an old study: study.json first (so no worker takes it for complete), the done index before
    the results, then the rest."""
    fs.remove(layout.STUDY_FILE)
    fs.remove(layout.JOBS_TABLE)
    doomed = 0
    for folder in _STUDY_OUTPUTS:
        paths = [info.path for info in fs.list_files(folder)]
        list(pool.map(fs.remove, paths))
        doomed += len(paths)
    log.info("overwrite: removed %d objects of the previous study at %s", doomed, fs.url())


def _upload_inputs(fs: FileSystem, inputs: _Inputs, pool: ThreadPoolExecutor) -> int:
    """Upload the inputs not already in the store (one listing decides); returns how many were sent."""
    present = {info.path for info in fs.list_files(layout.INPUTS)}
    tasks = []
    for sha, (text, suffix) in inputs.models.items():
        if layout.model_path(sha, suffix) not in present:
            tasks.append(pool.submit(fs.write_text, layout.model_path(sha, suffix), text))
    for sha, local in inputs.weather.items():
        if layout.weather_path(sha) not in present:
            tasks.append(pool.submit(fs.upload_file, local, layout.weather_path(sha)))
    for task in tasks:
        task.result()
    return len(tasks)


def _shard_count(jobs: int, shard_size: int | None, shard_count: int | None) -> int:
    if shard_count is None:
        size = shard_size or DEFAULT_SHARD_SIZE
        if size < 1:
            raise ValueError(f"shard_size must be at least 1, got {size}")
        shard_count = math.ceil(jobs / size)
    if not 1 <= shard_count <= jobs:
        raise ValueError(f"shard_count must be between 1 and the {jobs} jobs, got {shard_count}")
    return shard_count


def _checked_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    try:
        json.dumps(dict(metadata or {}))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"metadata must be JSON values: {exc}") from exc
    return dict(metadata or {})


def _flags(job: SimulationJob) -> dict[str, Any]:
    flags = asdict(job.options())
    flags["extra_args"] = list(flags["extra_args"])
    # Options added later are written only when set, so workers of older epcloud versions keep reading
    # the manifest of a study that does not use them.
    for name, default in (("output_suffix", "L"), ("preprocessor_timeout", None)):
        if flags[name] == default:
            del flags[name]
    return flags


def study_upload(upload: UploadPolicy | str | Sequence[str] | None) -> UploadPolicy:
    """A study's upload policy, checked: a study stores its outputs as the engine wrote them (a job's
    summary is read from them before they go), so it takes no gzip patterns."""
    policy = UploadPolicy.coerce(upload)
    if policy.gzip:
        raise ValueError(
            f"Study.create(upload=...): a study stores outputs as written; drop gzip={policy.gzip!r} "
            "(simulate's upload= takes it)"
        )
    dropped = [p for p in policy.exclude if fnmatchcase(layout.SUMMARY_FILE, p)]
    if dropped:
        raise ValueError(
            f"Study.create(upload=...): exclude={dropped[0]!r} would leave out {layout.SUMMARY_FILE}, "
            "which every job stores; narrow the pattern"
        )
    return policy


def create_study(
    fs: FileSystem,
    jobs: Iterable[SimulationJob],
    *,
    parameters: Sequence[Mapping[str, Any]] | None = None,
    overwrite: bool = False,
    metadata: Mapping[str, Any] | None = None,
    shard_size: int | None = None,
    shard_count: int | None = None,
    variables: Iterable[VariableRequest | str | Mapping[str, Any]] = (),
    energyplus: object = None,
    pilot: bool = False,
    upload: UploadPolicy | str | Sequence[str] | None = None,
) -> StudyInfo:
    """Write a study of ``jobs`` to ``fs``; refuses an existing study unless ``overwrite``.

    Jobs are dealt round-robin to shards (``shard_count``, or as many as ``shard_size`` jobs need).
    Requested ``variables`` the models lack get their output objects added; with ``pilot`` the first
    job's design days run here first, and the study is not written if that fails.
    """
    policy = study_upload(upload)  # a bad value fails before any model is read
    job_list = list(jobs)
    if not job_list:
        raise ValueError("a study needs at least one job")
    if parameters is not None and len(parameters) != len(job_list):
        raise ValueError(f"{len(parameters)} parameter sets for {len(job_list)} jobs")
    shard_count = _shard_count(len(job_list), shard_size, shard_count)
    requests = tuple(VariableRequest.coerce(v) for v in variables)
    meta = _checked_metadata(metadata)

    inputs = _Inputs(requests)
    shards: list[list[JobEntry]] = [[] for _ in range(shard_count)]
    for index, job in enumerate(job_list):
        if not isinstance(job, SimulationJob):
            raise TypeError(f"job {index} is a {type(job).__name__}, not a SimulationJob")
        model_sha, suffix = inputs.model(job.model)
        entry = JobEntry(
            id=layout.job_id(index),
            index=index,
            shard=index % shard_count,
            label=job.label,
            parameters=_job_parameters(job, parameters[index] if parameters is not None else None, index),
            flags=_flags(job),
            model_sha256=model_sha,
            model_suffix=suffix,
            weather_sha256=inputs.weather_file(job.weather),
        )
        shards[entry.shard].append(entry)
    return write_study(fs, inputs, shards, meta, requests, overwrite, energyplus, pilot, policy)


def create_sweep_study(
    fs: FileSystem,
    sweep: Sweep,
    *,
    overwrite: bool = False,
    metadata: Mapping[str, Any] | None = None,
    shard_size: int | None = None,
    shard_count: int | None = None,
    variables: Iterable[VariableRequest | str | Mapping[str, Any]] = (),
    energyplus: object = None,
    pilot: bool = False,
    upload: UploadPolicy | str | Sequence[str] | None = None,
) -> StudyInfo:
    """Write a sweep as a study: each distinct model once (the base, or one per value of its function and
    shoebox parameters), and each job's field edits and parameter values in its manifest entry."""
    policy = study_upload(upload)
    sweep.validate(fs)
    requests = tuple(dict.fromkeys(VariableRequest.coerce(v) for v in (*sweep.variables, *variables)))
    meta = {**_checked_metadata(metadata), "sweep": sweep.record()}
    labelled = list(sweep.labels())
    shard_count = _shard_count(len(labelled), shard_size, shard_count)
    inputs = _Inputs()
    flags = _flags(SimulationJob("Version,25.2;", None, **sweep.options))
    premodels: dict[tuple[Any, ...], tuple[str, str]] = {}
    weather = {id(w): inputs.weather_file(w) for w in sweep.weather}
    shards: list[list[JobEntry]] = [[] for _ in range(shard_count)]
    for index, (number, sample, weather_file, label) in enumerate(labelled):
        key = sweep.model_key(sample)
        if key not in premodels:
            from epcloud.study.outputs import add_requested_outputs

            if requests:
                doc = sweep.premodel(sample, fs)
                add_requested_outputs(doc, requests)
                premodels[key] = inputs.text(doc.to_idf(comments=False))
            else:
                premodels[key] = inputs.text(*sweep.premodel_text(sample, fs))
        sha, suffix = premodels[key]
        edits = [list(edit) for edit in sweep.edits(sample)]
        entry = JobEntry(
            id=layout.job_id(index),
            index=index,
            shard=index % shard_count,
            label=label,
            parameters=sweep.job_parameters(number, sample, weather_file),
            flags=flags,
            model_sha256=sha,
            model_suffix=suffix,
            weather_sha256=weather[id(weather_file)],
            edits=edits or None,
        )
        shards[entry.shard].append(entry)
    return write_study(fs, inputs, shards, meta, requests, overwrite, energyplus, pilot, policy)


def write_study(
    fs: FileSystem,
    inputs: _Inputs,
    shards: Sequence[Sequence[JobEntry]],
    metadata: dict[str, Any],
    requests: tuple[VariableRequest, ...],
    overwrite: bool,
    energyplus: object,
    pilot: bool,
    upload: UploadPolicy,
) -> StudyInfo:
    """Upload the inputs and manifests, then study.json last (its presence means the study is complete);
    ``upload`` is the policy `study_upload` checked."""
    if pilot:
        from epcloud.study.pilot import run_pilot

        first = min((entry for shard in shards for entry in shard), key=lambda e: e.index)
        text, suffix = inputs.models[first.model_sha256]
        weather = inputs.weather.get(first.weather_sha256) if first.weather_sha256 else None
        run_pilot(first, text, suffix, weather, requests, energyplus)
    existing = _refuse_existing(fs, overwrite)
    edited = any(entry.edits for shard in shards for entry in shard)
    info = StudyInfo(
        job_count=sum(len(shard) for shard in shards),
        shard_count=len(shards),
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        epcloud_version=__version__,
        energyplus_version=_engine_version(energyplus),
        metadata=metadata,
        variables=requests,
        format=STUDY_FORMAT if edited else 1,
        upload=upload_record(upload),
    )
    with ThreadPoolExecutor(max_workers=_UPLOAD_THREADS, thread_name_prefix="epcloud-study") as pool:
        if existing:
            _clear(fs, pool)
        sent = _upload_inputs(fs, inputs, pool)
        writes = [
            pool.submit(fs.write_text, layout.manifest_path(shard), shard_json(shard, entries))
            for shard, entries in enumerate(shards)
        ]
        for write in writes:
            write.result()
    fs.write_text(layout.STUDY_FILE, info.to_json())  # last: its presence means the study is complete
    log.info(
        "created a study of %d jobs in %d shards at %s (%d models, %d weather files, %d uploaded)",
        info.job_count,
        info.shard_count,
        fs.url(),
        len(inputs.models),
        len(inputs.weather),
        sent,
    )
    return info

"""The study file and the per-shard manifests: what a study is, which jobs it holds, and their checks."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from epcloud.errors import StorageNotFoundError, StudyFormatError, StudyNotFoundError
from epcloud.study import layout

if TYPE_CHECKING:
    from epcloud.rundir.upload import UploadPolicy
    from epcloud.storage import FileSystem

__all__ = [
    "STUDY_FORMAT",
    "JobEntry",
    "StudyInfo",
    "VariableRequest",
    "read_shard",
    "read_study",
]

STUDY_FORMAT = 2
"""The newest format of study.json and the manifests this epcloud writes; it reads this one and older.
Format 2 adds per-job field edits (sweeps that store their base model once); studies without them are
still written as format 1, so older workers run them."""
_PLAIN_FORMAT = 1


@dataclass(frozen=True)
class VariableRequest:
    """An output variable or meter whose time series every job's summary keeps (key "*" = every key)."""

    name: str
    key: str = "*"
    frequency: str | None = None

    @classmethod
    def coerce(cls, value: VariableRequest | str | Mapping[str, Any] | Sequence[str]) -> VariableRequest:
        """From a name, a mapping of the fields, or a (name, key[, frequency]) sequence."""
        if isinstance(value, VariableRequest):
            return value
        if isinstance(value, str):
            return cls(value)
        if isinstance(value, Mapping):
            return cls(str(value["name"]), str(value.get("key", "*")), value.get("frequency"))
        return cls(*value)


@dataclass(frozen=True)
class JobEntry:
    """One job of a study as its shard manifest records it."""

    id: str
    index: int
    shard: int
    label: str
    parameters: dict[str, Any]
    flags: dict[str, Any]
    model_sha256: str
    model_suffix: str
    weather_sha256: str | None
    edits: list[list[Any]] | None = None  # (type, name, field, value) set on the model before running

    @property
    def model_path(self) -> str:
        return layout.model_path(self.model_sha256, self.model_suffix)

    @property
    def weather_path(self) -> str | None:
        return layout.weather_path(self.weather_sha256) if self.weather_sha256 else None

    @property
    def result_dir(self) -> str:
        return layout.result_dir(self.shard, self.id)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str) -> JobEntry:
        try:
            return cls(
                id=str(data["id"]),
                index=int(data["index"]),
                shard=int(data["shard"]),
                label=str(data.get("label", "")),
                parameters=dict(data.get("parameters") or {}),
                flags=dict(data.get("flags") or {}),
                model_sha256=str(data["model_sha256"]),
                model_suffix=str(data.get("model_suffix", ".idf")),
                weather_sha256=data.get("weather_sha256"),
                edits=[list(edit) for edit in data["edits"]] if data.get("edits") else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StudyFormatError(f"{source}: malformed job entry ({exc!r}): {dict(data)!r:.200}") from exc


@dataclass(frozen=True)
class StudyInfo:
    """The content of study.json: provenance, job and shard counts, the variables each summary keeps."""

    job_count: int
    shard_count: int
    created_at: str
    epcloud_version: str
    energyplus_version: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    variables: tuple[VariableRequest, ...] = ()
    format: int = _PLAIN_FORMAT
    # The outputs each job stores (the fields of an `UploadPolicy`); None: the default set.
    upload: dict[str, Any] | None = None

    def to_json(self) -> str:
        data = asdict(self)
        data["variables"] = [asdict(v) for v in self.variables]
        if self.upload is None:
            del data["upload"]  # a study with the default set reads as before
        return json.dumps(data, indent=2, sort_keys=True)

    def upload_policy(self) -> UploadPolicy:
        """Which outputs each job's attempt stores (besides its summary and run-status.json)."""
        from epcloud.rundir.upload import DEFAULT_UPLOAD, UploadPolicy

        if self.upload is None:
            return DEFAULT_UPLOAD
        return UploadPolicy(
            include=tuple(self.upload.get("include", ())),
            exclude=tuple(self.upload.get("exclude", ())),
            gzip=tuple(self.upload.get("gzip", ())),
            gzip_min_bytes=int(self.upload.get("gzip_min_bytes", DEFAULT_UPLOAD.gzip_min_bytes)),
        )

    @classmethod
    def from_json(cls, text: str, source: str) -> StudyInfo:
        data = _load_object(text, source)
        try:
            return cls(
                job_count=int(data["job_count"]),
                shard_count=int(data["shard_count"]),
                created_at=str(data.get("created_at", "")),
                epcloud_version=str(data.get("epcloud_version", "")),
                energyplus_version=data.get("energyplus_version"),
                metadata=dict(data.get("metadata") or {}),
                variables=tuple(VariableRequest.coerce(v) for v in data.get("variables") or ()),
                format=int(data["format"]),
                upload=_upload_record(data.get("upload"), source),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StudyFormatError(f"{source}: not a study file ({exc!r})") from exc


def upload_record(policy: UploadPolicy) -> dict[str, Any] | None:
    """What study.json records of a study's upload policy (None for the default set)."""
    from epcloud.rundir.upload import DEFAULT_UPLOAD

    if policy == DEFAULT_UPLOAD:
        return None
    return {
        "include": list(policy.include),
        "exclude": list(policy.exclude),
        "gzip": list(policy.gzip),
        "gzip_min_bytes": policy.gzip_min_bytes,
    }


def _upload_record(value: object, source: str) -> dict[str, Any] | None:
    if value is None:
        return None
    fields = ("include", "exclude", "gzip")
    if not isinstance(value, dict) or not all(
        isinstance(value.get(f, []), list) and all(isinstance(p, str) for p in value.get(f, []))
        for f in fields
    ):
        raise StudyFormatError(f"{source}: 'upload' must hold lists of file patterns, not {value!r:.200}")
    return dict(value)


def _load_object(text: str, source: str) -> dict[str, Any]:
    """A JSON object, checked for the format this epcloud can read."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StudyFormatError(f"{source}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise StudyFormatError(f"{source}: expected a JSON object, found {type(data).__name__}")
    version = data.get("format")
    if not isinstance(version, int):
        raise StudyFormatError(f"{source}: no integer 'format' field; not written by epcloud")
    if version > STUDY_FORMAT:
        raise StudyFormatError(
            f"{source}: written by a newer epcloud (study format {version}; this one reads up to "
            f"{STUDY_FORMAT}). Upgrade epcloud on this machine (pip install -U epcloud)."
        )
    return data


def shard_json(shard: int, entries: Sequence[JobEntry]) -> str:
    """The text of one shard's manifest."""
    jobs = [asdict(entry) for entry in entries]
    for job in jobs:
        if job["edits"] is None:
            del job["edits"]
    version = STUDY_FORMAT if any(entry.edits for entry in entries) else _PLAIN_FORMAT
    return json.dumps({"format": version, "shard": shard, "jobs": jobs}, separators=(",", ":"))


def read_study(fs: FileSystem) -> StudyInfo:
    """The study.json of the study in ``fs``; no study there raises `StudyNotFoundError`."""
    try:
        text = fs.read_text(layout.STUDY_FILE)
    except StorageNotFoundError as exc:
        raise StudyNotFoundError(
            f"no study at {fs.url()}: {layout.STUDY_FILE} is missing (create one with Study.create "
            "or `epcloud study create`)"
        ) from exc
    return StudyInfo.from_json(text, fs.url(layout.STUDY_FILE))


def read_shard(fs: FileSystem, shard: int) -> list[JobEntry]:
    """The job entries of one shard's manifest."""
    path = layout.manifest_path(shard)
    source = fs.url(path)
    try:
        text = fs.read_text(path)
    except StorageNotFoundError as exc:
        raise StudyFormatError(f"{source} is missing: the study is incomplete; re-create it") from exc
    data = _load_object(text, source)
    jobs = data.get("jobs")
    if not isinstance(jobs, list):
        raise StudyFormatError(f"{source}: no 'jobs' list")
    entries = [JobEntry.from_dict(job, source) for job in jobs]
    wrong = [entry.id for entry in entries if entry.shard != shard]
    if wrong:
        raise StudyFormatError(f"{source}: jobs {wrong[:5]} belong to another shard")
    return entries

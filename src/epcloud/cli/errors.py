"""Errors at the command line: one line in CLI words (flags, commands), an exit code, JSON on request.

The API's messages speak Python (``design_day=True``, ``Study.create``); this module says the same in the
words of the command line (``--design-day``, ``epcloud study create``) without changing the API.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from epcloud.errors import (
    EpcloudError,
    StorageError,
    StoragePathError,
    UploadFailedError,
    UsageError,
    WeatherDownloadError,
    WeatherFileNotFoundError,
)

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_STORAGE",
    "EXIT_USAGE",
    "CliError",
    "ParserError",
    "cli_words",
    "describe",
    "flag_of",
    "missing_extra",
]

EXIT_OK = 0  # everything asked for was done
EXIT_FAILED = 1  # the command ran, but one or more simulations failed
EXIT_USAGE = 2  # bad input: arguments, files, a missing extra; nothing was run
EXIT_STORAGE = 3  # a store or the network failed (unreachable endpoint, refused credentials)
EXIT_INTERNAL = 4  # an unexpected error inside epcloud: a bug, please report it with --verbose
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)

# API parameter -> the option the command line has for it.
_FLAGS = {
    "annual": "--annual",
    "base_url": "--base-url",
    "design_day": "--design-day",
    "energyplus": "--energyplus PATH",
    "expand_objects": "--no-expand-objects",
    "max_workers": "--max-workers",
    "max_concurrent": "--max-workers",
    "output_suffix": "--output-suffix",
    "overwrite": "--overwrite",
    "preprocessor_timeout": "--preprocessor-timeout",
    "readvars": "--readvars",
    "reuse_dir": "--reuse-dir",
    "shard_count": "--shards",
    "shard_size": "--shard-size",
    "steal": "--steal",
    "timeout": "--timeout",
    "weather": "--weather",
    "full": "--full",
}
# API calls -> commands.
_COMMANDS = {
    "Study.create": "epcloud study create",
    "Study.open": "epcloud study status",
    "Study.run_shard": "epcloud worker",
    "Study.run": "epcloud study run",
    "Study.collect": "epcloud collect",
    "Study.rerun": "epcloud rerun",
}
_ENGINE_WEATHER = "(the EnergyPlus package ships some in its WeatherData folder)"
# Module (top-level name) -> the extra that installs it.
_EXTRA_OF = {
    "boto3": "s3",
    "botocore": "s3",
    "s3transfer": "s3",
    "pandas": "tables",
    "pyarrow": "tables",
    "plotly": "plot",
    "duckdb": "query",
    "distributed": "dask",
    "dask": "dask",
    "fsspec": "fsspec",
    "yaml": "sweep",  # the sweep extra (on main since the sweep merge): YAML sweep files, samplers
    "scipy": "sweep",
    "SALib": "sweep",
}
_CLOUD_EXTRAS = ("s3", "tables")


class ParserError(UsageError):
    """Arguments argparse refused; ``usage`` is the usage line of the command concerned."""

    def __init__(self, message: str, usage: str, prog: str) -> None:
        super().__init__(message)
        self.usage = usage
        self.prog = prog


@dataclass
class CliError:
    """What the user is told: a type name, one message, the exit code, and details for ``--json``."""

    type: str
    message: str
    exit_code: int
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"type": self.type, "message": self.message, **self.details}}


def flag_of(parameter: str) -> str:
    """The command-line option for an API parameter (``design_day`` -> ``--design-day``)."""
    return _FLAGS.get(parameter, "--" + parameter.replace("_", "-"))


def _parameter(match: re.Match[str]) -> str:
    name, value = match.group(1), match.group(2)
    if name == "expand_objects":
        return "--no-expand-objects" if value == "False" else "(without --no-expand-objects)"
    flag = flag_of(name)
    if value in ("True", None) or " " in flag:
        return flag
    return f"{flag} {value}"


def cli_words(message: str) -> str:
    """An API message said in CLI words: parameters become options, API calls become commands."""
    # "Study.create or `epcloud study create`" says the command once.
    text = re.sub(r"\b(?:Study|StationIndex)\.\w+(?:\(\))? or (`epcloud [^`]+`)", r"\1", message)
    text = re.sub(
        r"\bStudy\.(create|open|run_shard|run|collect|rerun)(\([^)]*\))?",
        lambda m: (
            "`{}`".format(_COMMANDS[f"Study.{m.group(1)}"])
            + (" with --overwrite" if m.group(2) and "overwrite=True" in m.group(2) else "")
        ),
        text,
    )
    text = re.sub(r"\bShoebox\.(\w+)", lambda m: "--" + m.group(1).replace("_", "-"), text)
    names = "|".join(sorted(_FLAGS, key=len, reverse=True))
    text = re.sub(rf"\b({names})=(True|False|<path>|\d[\w.]*)", _parameter, text)
    bare = "|".join(name for name in sorted(_FLAGS, key=len, reverse=True) if "_" in name)
    text = re.sub(rf"(?<![\w.-])({bare})\b(?!=)", lambda m: flag_of(m.group(1)).split()[0], text)
    return text.replace(
        _ENGINE_WEATHER,
        "(`epcloud weather bundled` lists the ones the engine ships; `-w chicago` picks one by station)",
    )


def missing_extra(exc: BaseException) -> str | None:
    """The epcloud extra whose absence caused ``exc`` (an ImportError, possibly as a cause), else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ImportError):
            name = (getattr(current, "name", None) or "").split(".")[0]
            if name in _EXTRA_OF:
                return _EXTRA_OF[name]
            said = re.search(r"epcloud\[(\w+)\]", str(current))
            if said:
                return said.group(1)
            for module, extra in _EXTRA_OF.items():
                if re.search(rf"\b{module}\b", str(current)):
                    return extra
        current = current.__cause__ or current.__context__
    return None


def _details(exc: BaseException) -> dict[str, Any]:
    details: dict[str, Any] = {}
    for name in ("path", "source", "line", "url", "field"):
        value = getattr(exc, name, None)
        if value not in (None, ""):
            details[name] = str(value) if name != "line" else value
    parameters = getattr(exc, "parameters", ())
    if parameters:
        details["options"] = [flag_of(p).split()[0] for p in parameters]
    return details


def _one_line(text: str) -> str:
    """A multi-line message joined into one line (lists of searched places become `; `-separated)."""
    lines = [line.strip().removeprefix("- ") for line in text.splitlines() if line.strip()]
    joined = lines[0] if lines else ""
    for before, line in itertools.pairwise(lines):
        joined += (" " if before.endswith((".", ":", ";")) else "; ") + line
    return joined


def describe(exc: BaseException, command: str) -> CliError:
    """The message, exit code and JSON details for an exception that ended ``epcloud COMMAND``."""
    extra = missing_extra(exc) if isinstance(exc, ImportError) else None
    if extra is not None:
        pip = f"pip install 'epcloud[{extra}]'"
        also = " (or 'epcloud[cloud]' for the whole cloud workflow)" if extra in _CLOUD_EXTRAS else ""
        return CliError(
            "MissingExtra",
            f"epcloud {command} needs {extra}: {pip}{also}",
            EXIT_USAGE,
            {"extra": extra, "install": pip},
        )
    kind = type(exc).__name__
    if isinstance(exc, KeyboardInterrupt):
        return CliError("Interrupted", "interrupted (Ctrl-C); finished outputs are kept", EXIT_INTERRUPTED)
    message = _one_line(cli_words(str(exc))) or kind
    if isinstance(exc, ParserError):
        return CliError("UsageError", message, EXIT_USAGE, {"usage": exc.usage.strip()})
    if isinstance(exc, WeatherFileNotFoundError) and "epcloud weather bundled" not in message:
        message += " `epcloud weather bundled` lists the bundled weather files."
    if isinstance(exc, UploadFailedError):  # the run is kept: say how to finish from the shell
        details = {"kept_dir": exc.kept_dir, "url": exc.destination}
        return CliError(kind, _one_line(exc.cli_message()), EXIT_STORAGE, details)
    if isinstance(exc, StoragePathError):  # a malformed URL or path: the user's input, not the store
        return CliError(kind, message, EXIT_USAGE, _details(exc))
    if isinstance(exc, (StorageError, WeatherDownloadError)):
        return CliError(kind, message, EXIT_STORAGE, _details(exc))
    if isinstance(exc, (EpcloudError, ValueError, FileNotFoundError, IsADirectoryError, PermissionError)):
        return CliError(kind, message, EXIT_USAGE, _details(exc))
    if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
        return CliError(kind, message, EXIT_STORAGE, _details(exc))
    return CliError(
        kind,
        f"unexpected error (a bug in epcloud): {kind}: {message}; "
        "run again with --verbose and report the traceback",
        EXIT_INTERNAL,
    )

"""Model and weather arguments: bundled weather by name or station (`-w chicago`), swapped-argument hints."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from epcloud.errors import UsageError

__all__ = [
    "BundledWeather",
    "bundled_weather",
    "check_model_and_weather",
    "resolve_weather",
    "resolve_weathers",
]

_MODEL_SUFFIXES = (".idf", ".epjson", ".imf")
_WEATHER_SUFFIXES = (".epw",)


@dataclass(frozen=True)
class BundledWeather:
    """One EPW file shipped with the engine, with the station its LOCATION header names."""

    path: Path
    city: str
    state: str
    country: str
    source: str
    wmo: str
    latitude: float | None
    longitude: float | None

    @property
    def station(self) -> str:
        """A display name: ``Chicago Ohare Intl Ap, IL, USA``."""
        return ", ".join(part for part in (self.city, self.state, self.country) if part)

    def matches(self, term: str) -> bool:
        """Whether every word of ``term`` appears in the file name or station (case-insensitive)."""
        haystack = f"{self.path.name} {self.station} {self.wmo}".lower()
        words = [w for w in re.split(r"[\s_,.\-]+", term.lower()) if w]
        return bool(words) and all(word in haystack for word in words)


def _location(path: Path) -> BundledWeather:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        header = next(csv.reader([handle.readline()]), [])
    cells = [" ".join(cell.split()) for cell in header] + [""] * 10

    def number(text: str) -> float | None:
        try:
            return float(text)
        except ValueError:
            return None

    return BundledWeather(
        path, cells[1], cells[2], cells[3], cells[4], cells[5], number(cells[6]), number(cells[7])
    )


def bundled_weather(energyplus: str | None = None) -> list[BundledWeather]:
    """The EPW files in the engine's WeatherData folder, by file name."""
    from epcloud.engine import find_energyplus

    folder = find_energyplus(energyplus).weather_dir
    if folder is None or not Path(folder).is_dir():
        return []
    return [_location(path) for path in sorted(Path(folder).glob("*.epw"))]


def _is_location(text: str) -> bool:
    return "://" in text or "/" in text or "\\" in text or Path(text).exists()


def resolve_weather(text: str | None, energyplus: str | None = None) -> tuple[str | None, str | None]:
    """The weather to use for ``-w TEXT`` and a note saying which bundled file was picked (else None).

    A path or URL is used as given; otherwise a bundled file's name (with or without ``.epw``), or a
    term that matches exactly one bundled station (``chicago``, ``725300``). Several or no matches raise
    `UsageError` naming them and `epcloud weather bundled`.
    """
    if text is None or _is_location(text):
        return text, None
    found = bundled_weather(energyplus)
    exact = [w for w in found if text.lower() in (w.path.name.lower(), w.path.stem.lower())]
    matches = exact or [w for w in found if w.matches(text)]
    if len(matches) == 1:
        picked = matches[0]
        return str(picked.path), f"weather: {picked.path.name} ({picked.station}, bundled with the engine)"
    if len(matches) > 1:
        names = ", ".join(w.path.name for w in matches)
        raise UsageError(
            f"-w {text} matches {len(matches)} bundled weather files ({names}); give more of the name",
            parameter="weather",
        )
    if text.lower().endswith(_WEATHER_SUFFIXES):
        where = f"weather file not found: {Path(text).resolve()}"
    else:
        where = f"-w {text}: no such file, and no bundled weather file matches it"
    raise UsageError(
        f"{where}. `epcloud weather bundled` lists the engine's weather files (`-w chicago` picks one); "
        "`epcloud weather download` fetches others",
        parameter="weather",
    )


def resolve_weathers(
    texts: list[str], energyplus: str | None = None, *, quiet: bool = False
) -> list[str | None]:
    """`resolve_weather` for each ``-w`` of a command taking several; notes to stderr unless ``quiet``."""
    from epcloud.cli.output import note

    found: list[str | None] = []
    for text in texts:
        if Path(text).suffix.lower() in _MODEL_SUFFIXES:
            check_model_and_weather("model.idf", text)
        weather, picked = resolve_weather(text, energyplus)
        if picked and not quiet:
            note(picked)
        found.append(weather)
    return found


def check_model_and_weather(model: str, weather: str | None) -> None:
    """Refuse a model and weather file given the wrong way round, a weather file given as the model, or a
    model path that does not exist."""
    model_suffix = Path(model).suffix.lower()
    weather_suffix = Path(weather).suffix.lower() if weather else ""
    if model_suffix in _WEATHER_SUFFIXES and weather_suffix in _MODEL_SUFFIXES:
        raise UsageError(
            f"{model} is a weather file and {weather} a model: they are the wrong way round; "
            f"give the model first and the weather with -w: epcloud run {weather} -w {model}",
            parameter="weather",
        )
    if model_suffix in _WEATHER_SUFFIXES:
        raise UsageError(
            f"{model} is a weather file, not a model; give the model (.idf/.epJSON) first and the "
            "weather with -w (`epcloud example shoebox -o shoebox.idf` writes an example model)",
            parameter="weather",
        )
    if "://" not in model and not Path(model).exists():
        raise UsageError(
            f"model file not found: {Path(model).resolve()} "
            "(`epcloud example shoebox -o shoebox.idf` writes an example model)"
        )
    if weather_suffix in _MODEL_SUFFIXES:
        raise UsageError(
            f"-w {weather} is a model, not a weather file; -w takes an .epw file "
            "(`epcloud weather bundled` lists the engine's)",
            parameter="weather",
        )

"""climate.onebuilding.org's station listing: the regional KML files and their parsing into listing entries.

Each weather file is a ``<Placemark>``: its ``<coordinates>`` give longitude and latitude, its
``<description>`` holds a small HTML table of facts (``Data Source``, ``Elevation``, ``Time Zone``,
``ASHRAE ... Climate Zone``, ``99% Heating DB``, ``1% Cooling DB``, ``HDD18``, ``CDD10``, ``URL`` and,
for some stations, ``Design conditions from alternate WMO``). A placemark without a URL is a region label.
"""

from __future__ import annotations

import codecs
import html
import re
import xml.parsers.expat
from dataclasses import dataclass, field
from typing import Any

from epcloud.errors import WeatherFormatError
from epcloud.weather.stations import ONEBUILDING_URL, parse_file_stem

__all__ = ["LISTING_FILES", "listing_url", "parse_kml"]

#: The regional KML files that list every TMYx weather file, in the site's ``sources/`` folder.
LISTING_FILES = (
    "Region1_Africa_TMYx_EPW_Processing_locations.kml",
    "Region2_Asia_TMYx_EPW_Processing_locations.kml",
    "Region2_Region6_Russia_TMYx_EPW_Processing_locations.kml",
    "Region3_South_America_TMYx_EPW_Processing_locations.kml",
    "Region4_USA_TMYx_EPW_Processing_locations.kml",
    "Region4_Canada_TMYx_EPW_Processing_locations.kml",
    "Region4_NA_CA_Caribbean_TMYx_EPW_Processing_locations.kml",
    "Region5_Southwest_Pacific_TMYx_EPW_Processing_locations.kml",
    "Region6_Europe_TMYx_EPW_Processing_locations.kml",
    "Region7_Antarctica_TMYx_EPW_Processing_locations.kml",
)

_NUMBER = r"([-+]?\d+(?:\.\d+)?)"
# Description row -> (listing key, pattern, type). Every one is required.
_FACTS: dict[str, tuple[str, re.Pattern[str], type]] = {
    "Data Source": ("source", re.compile(r"Data Source\s+(\S+)"), str),
    "Elevation": ("elevation", re.compile(rf"Elevation\s+{_NUMBER}\s*m\b"), float),
    "Time Zone": ("timezone", re.compile(rf"Time Zone\s*\{{?\s*GMT\s*{_NUMBER}\s*hour"), float),
    "Climate Zone": ("ashrae_climate_zone", re.compile(r"Climate Zone\s+([^\n]*\S)"), str),
    "99% Heating DB": ("heating_design_db_c", re.compile(rf"99% Heating DB\s+{_NUMBER}\s*C\b"), float),
    "1% Cooling DB": ("cooling_design_db_c", re.compile(rf"1% Cooling DB\s+{_NUMBER}\s*C\b"), float),
    "HDD18": ("hdd18", re.compile(r"HDD18\s+(\d+)"), int),
    "CDD10": ("cdd10", re.compile(r"CDD10\s+(\d+)"), int),
}
_URL = re.compile(r"URL\s+(\S+\.zip)\b", re.IGNORECASE)
_DESIGN_WMO = re.compile(r"Design conditions from alternate WMO\s+(\w+)", re.IGNORECASE)
_ROW_END = re.compile(r"</tr\s*>|<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def listing_url(filename: str, base_url: str = ONEBUILDING_URL) -> str:
    """Where a listing file is: ``<base_url>/sources/<filename>``."""
    return f"{base_url.rstrip('/')}/sources/{filename}"


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode a byte that is not UTF-8 as Latin-1 (the listings hold a few, e.g. in ``Potosí``)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("epcloud-latin1", _latin1_fallback)


@dataclass
class _Placemark:
    line: int
    texts: dict[str, list[str]] = field(
        default_factory=lambda: {"name": [], "description": [], "coordinates": []}
    )

    def text(self, part: str) -> str:
        return "".join(self.texts[part]).strip()


def parse_kml(data: bytes, source: str) -> list[dict[str, Any]]:
    """The weather files a listing KML names, as listing entries (see `epcloud.weather.indexbuild`).

    Args:
        data: the KML file's bytes.
        source: its URL or path, named in errors.

    Raises:
        WeatherFormatError: naming ``source`` and the line, when the file is not well-formed XML, is not a
            KML listing, lists no weather file, or a placemark lacks a fact.
    """
    placemarks, root = _placemarks(data.decode("utf-8", errors="epcloud-latin1"), source)
    if root != "kml":
        raise WeatherFormatError(
            f"not a KML listing (its root element is <{root}>, not <kml>)", source=source
        )
    entries = [entry for placemark in placemarks if (entry := _entry(placemark, source)) is not None]
    if not entries:
        raise WeatherFormatError(
            f"the listing names no weather file ({len(placemarks)} placemarks, none with a URL)",
            source=source,
        )
    return entries


def _placemarks(text: str, source: str) -> tuple[list[_Placemark], str]:
    """Every ``<Placemark>`` with the text of its name, description and coordinates; the root's name."""
    parser = xml.parsers.expat.ParserCreate()
    parser.buffer_text = True  # one call per text run, not one per line
    root: list[str] = []
    stack: list[str] = []
    found: list[_Placemark] = []
    current: list[_Placemark] = []

    def start(tag: str, _attrs: dict[str, str]) -> None:
        local = tag.rpartition(":")[2]
        if not root:
            root.append(local)
        stack.append(local)
        if local == "Placemark":
            current.append(_Placemark(parser.CurrentLineNumber))

    def end(_tag: str) -> None:
        if stack.pop() == "Placemark" and current:
            found.append(current.pop())

    def characters(data: str) -> None:
        if not current or not stack:
            return
        part = stack[-1]
        if part == "coordinates" or (part in ("name", "description") and stack[-2:-1] == ["Placemark"]):
            current[-1].texts[part].append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(text, True)
    except xml.parsers.expat.ExpatError as exc:
        message = xml.parsers.expat.ErrorString(exc.code)
        raise WeatherFormatError(
            f"not well-formed XML: {message} (column {exc.offset}); the download may be cut short, try again",
            source=source,
            line=exc.lineno,
        ) from None
    return found, root[0] if root else ""


def _entry(placemark: _Placemark, source: str) -> dict[str, Any] | None:
    """One placemark as a listing entry, or None for a placemark that links no weather file."""
    rows = _TAG.sub("", _ROW_END.sub("\n", placemark.text("description")))
    plain = html.unescape(rows)
    url_match = _URL.search(plain)
    if url_match is None:
        return None
    url = url_match.group(1)

    def fail(message: str, fact: str) -> WeatherFormatError:
        name = placemark.text("name") or "?"
        return WeatherFormatError(
            f"placemark {name!r} ({url}): {message}", source=source, line=placemark.line, field=fact
        )

    entry: dict[str, Any] = {"url": url}
    for fact, (key, pattern, kind) in _FACTS.items():
        match = pattern.search(plain)
        if match is None:
            raise fail(
                f"the description has no {fact!r} row, or it is not a number in the expected unit", fact
            )
        entry[key] = kind(match.group(1).strip())
    coordinates = placemark.text("coordinates").split(",")
    try:
        longitude, latitude = float(coordinates[0]), float(coordinates[1])
    except (IndexError, ValueError):
        raise fail(
            f"<coordinates> is {placemark.text('coordinates')!r}, not 'longitude,latitude'", "coordinates"
        ) from None
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise fail(f"<coordinates> is not a point on Earth: {latitude}, {longitude}", "coordinates")
    stem = url.rsplit("/", 1)[-1][: -len(".zip")]
    try:
        country, state, name, station_id, _ = parse_file_stem(stem)
    except ValueError as exc:
        raise fail(str(exc), "URL") from None
    design_wmo = _DESIGN_WMO.search(plain)
    entry.update(
        country=country,
        state=state,
        city=name,
        wmo=station_id,
        latitude=latitude,
        longitude=longitude,
        design_conditions_source_wmo=design_wmo.group(1) if design_wmo else None,
    )
    return entry

"""Building a station index from listing entries, the one builder behind the bundled index,
`StationIndex.refresh` and `StationIndex.from_stations`.

A listing entry is one weather file as climate.onebuilding.org lists it (the keys of :data:`LISTING_KEYS`,
as in the shared ``onebuilding-stations.json.gz`` and in the parsed KML listings). The station's name,
country, state and WMO number are taken from the file name, because the file name is what is served.
"""

from __future__ import annotations

import array
import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from epcloud.weather.indexfile import ENTRY_ARRAYS, ENTRY_STRINGS, LOCATION_STRINGS, SCALES, StationTable
from epcloud.weather.stations import (
    ONEBUILDING_URL,
    StationIndex,
    WeatherStation,
    file_prefix,
    parse_file_stem,
)

__all__ = ["LISTING_KEYS", "build_table", "entries_from_listing", "listing_item", "table_of_stations"]

logger = logging.getLogger(__name__)

#: The keys of a listing entry (one weather file).
LISTING_KEYS = (
    "country",
    "state",
    "city",
    "wmo",
    "source",
    "latitude",
    "longitude",
    "timezone",
    "elevation",
    "url",
    "ashrae_climate_zone",
    "heating_design_db_c",
    "cooling_design_db_c",
    "hdd18",
    "cdd10",
    "design_conditions_source_wmo",
)
# Index column -> listing key, for the numeric facts.
_NUMBERS = {
    "lat": "latitude",
    "lon": "longitude",
    "tz": "timezone",
    "elev": "elevation",
    "heat": "heating_design_db_c",
    "cool": "cooling_design_db_c",
    "hdd": "hdd18",
    "cdd": "cdd10",
}

# Array typecode -> the integers it holds.
_RANGES = {
    code: (0, 256 ** array.array(code).itemsize - 1)
    if code.isupper()
    else (-(256 ** array.array(code).itemsize) // 2, 256 ** array.array(code).itemsize // 2 - 1)
    for code in set(ENTRY_ARRAYS.values())
}


def entries_from_listing(
    items: Iterable[dict[str, Any]], base_url: str = ONEBUILDING_URL
) -> list[dict[str, Any]]:
    """Listing entries with the station facts of their file names (``dir``, ``name``, ``id``, ``dataset``).

    Raises:
        ValueError: naming the URL of an entry that is not a weather file's ZIP or lacks a key.
    """
    entries = []
    for item in items:
        url = str(item.get("url", ""))
        missing = [key for key in LISTING_KEYS if key not in item and key != "design_conditions_source_wmo"]
        if missing:
            raise ValueError(f"{url or 'an entry without a URL'}: the entry has no {', '.join(missing)}")
        folder, _, filename = url.rpartition("/")
        if not filename.endswith(".zip") or "://" not in url:
            raise ValueError(f"{url!r} is not the URL of a weather file's ZIP")
        if url.startswith(base_url + "/"):
            folder = folder[len(base_url) + 1 :] if "/" in url[len(base_url) + 1 :] else ""
        try:
            country, state, name, station_id, dataset = parse_file_stem(filename[: -len(".zip")])
        except ValueError as exc:
            raise ValueError(f"{url}: {exc}") from None
        entries.append(
            {
                **item,
                "dir": folder,
                "country": country,
                "state": state,
                "name": name,
                "id": station_id,
                "dataset": dataset,
            }
        )
    return entries


def listing_item(station: WeatherStation) -> dict[str, Any]:
    """A station as a listing entry (idfkit's keys), the inverse of what the index gives."""
    data = station.to_dict()
    item = {key: data[key] for key in LISTING_KEYS if key in data}
    item.update(city=station.name, ashrae_climate_zone=station.climate_zone)
    return item


def _preference(entry: dict[str, Any]) -> tuple[int, int, str]:
    """Sort key: newest 15-year window first, measured before reanalysis, plain TMYx last."""
    end = re.search(r"(\d{4})$", entry["dataset"])
    return (-int(end.group(1)) if end else 0, entry["source"] == "ERA5-TMYx", entry["dataset"])


def _region_names(folders: set[str]) -> dict[str, dict[str, str]]:
    """Country and state names from the site's folders: `.../USA_United_States_of_America/IL_Illinois`."""
    countries: dict[str, str] = {}
    states: dict[str, str] = {}
    for folder in folders:
        if "://" in folder:  # a file outside the site: its folders name nothing
            continue
        parts = folder.split("/")
        if len(parts) < 2:
            continue
        country, _, country_name = parts[1].partition("_")
        countries[country] = country_name.replace("_", " ")
        if len(parts) >= 3:
            state, _, state_name = parts[2].partition("_")
            states[f"{country}/{state}"] = state_name.replace("_", " ")
    return {"countries": dict(sorted(countries.items())), "states": dict(sorted(states.items()))}


def build_table(entries: list[dict[str, Any]], meta: dict[str, Any]) -> StationTable:
    """The index table of these entries (from `entries_from_listing`); each station's files in order of
    preference, so the first is the one search and nearest return.

    A URL listed twice is kept once. Raises ValueError when a value does not fit its column or a URL does
    not come back out of the table unchanged.
    """
    unique: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if entry["url"] in unique:
            logger.debug("%s is listed twice; keeping the first entry", entry["url"])
            continue
        unique[entry["url"]] = entry
    entries = list(unique.values())
    by_station: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        by_station[entry["id"]].append(entry)
    stations = [sorted(group, key=_preference) for group in by_station.values()]
    stations.sort(key=lambda g: (g[0]["country"], g[0]["state"], g[0]["name"], g[0]["id"]))

    tables = {
        "dirs": sorted({e["dir"] for e in entries}),
        "zones": sorted({e["ashrae_climate_zone"] for e in entries}),
        "sources": sorted({e["source"] for e in entries}),
        "datasets": sorted({e["dataset"] for e in entries}),
    }
    index_of = {key: {value: i for i, value in enumerate(values)} for key, values in tables.items()}
    table = StationTable(
        meta={"base_url": ONEBUILDING_URL, **meta}, tables=tables, names=_region_names(set(tables["dirs"]))
    )
    table.strings = {name: [] for name in (*LOCATION_STRINGS, *ENTRY_STRINGS)}
    table.arrays = {name: array.array(code) for name, code in ENTRY_ARRAYS.items()}
    for group in stations:
        head = group[0]
        for name in LOCATION_STRINGS:
            table.strings[name].append(head[name])
        table.first.append(len(table.strings["prefix"]))
        own_prefix = file_prefix(head["country"], head["state"], head["name"], head["id"])
        for entry in group:
            _add_entry(table, entry, own_prefix, index_of)
    table.first.append(len(table.strings["prefix"]))
    _check(table, entries)
    return table


def _add_entry(
    table: StationTable, entry: dict[str, Any], own_prefix: str, index_of: dict[str, dict[str, int]]
) -> None:
    prefix = file_prefix(entry["country"], entry["state"], entry["name"], entry["id"])
    values: dict[str, int] = {
        "dataset": index_of["datasets"][entry["dataset"]],
        "source": index_of["sources"][entry["source"]],
        "dir": index_of["dirs"][entry["dir"]],
        "zone": index_of["zones"][entry["ashrae_climate_zone"]],
    }
    for column, key in _NUMBERS.items():
        values[column] = round(float(entry[key]) * SCALES.get(column, 1))
    for column, value in values.items():  # check every column before appending to any
        low, high = _RANGES[ENTRY_ARRAYS[column]]
        if not low <= value <= high:
            what = _NUMBERS.get(column, f"the number of distinct {column} values")
            raise ValueError(f"{entry['url']}: {what} is out of range for the index ({value})")
    for column, value in values.items():
        table.arrays[column].append(value)
    design_wmo = entry.get("design_conditions_source_wmo")
    table.strings["prefix"].append("" if prefix == own_prefix else prefix)
    table.strings["design_wmo"].append(str(design_wmo) if design_wmo else "")


def _check(table: StationTable, entries: list[dict[str, Any]]) -> None:
    """Every entry's URL must come back out of the index unchanged."""
    index = StationIndex(StationTable.from_bytes(table.to_bytes()))
    urls = {file.url for station in index for file in index.datasets(station)}
    missing = {e["url"] for e in entries} - urls
    if missing or len(urls) != len(entries):
        raise ValueError(
            f"{len(missing)} URLs do not round-trip through the index, e.g. {sorted(missing)[:3]}"
        )


def table_of_stations(stations: Iterable[WeatherStation]) -> StationTable:
    """The index table of these stations, for `StationIndex(stations)` / `StationIndex.from_stations`.

    Raises:
        TypeError: for an item that is not a `WeatherStation`.
        ValueError: naming a station whose name, country, state, WMO number or dataset differ from what its
            URL's file name says (the index stores them as the file name).
    """
    given = list(stations)
    for station in given:
        if not isinstance(station, WeatherStation):
            raise TypeError(
                f"a StationIndex is built of WeatherStation objects, got {type(station).__name__}"
            )
    entries = entries_from_listing(listing_item(station) for station in given)
    for station, entry in zip(given, entries, strict=True):
        facts = (station.name, station.country, station.state, station.wmo, station.dataset)
        named = (entry["name"], entry["country"], entry["state"], entry["id"], entry["dataset"])
        if facts != named:
            raise ValueError(
                f"station {station.display_name} ({station.dataset}) does not match its URL {station.url}: "
                "the index takes the name, country, state, WMO number and dataset from the file name, which "
                f"gives {named}; give the station a URL that names it"
            )
    meta = {"built_at": datetime.now(timezone.utc).isoformat(), "source": "WeatherStation objects"}
    return build_table(entries, meta)

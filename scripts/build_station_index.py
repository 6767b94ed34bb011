"""Build epcloud's bundled weather-station index from the climate.onebuilding.org station listing.

Usage: python scripts/build_station_index.py [SOURCE.json.gz] [OUTPUT]
(defaults: ../shared/weather/onebuilding-stations.json.gz and src/epcloud/data/stations.bin.gz).
Each station's files are ordered by preference, so the index's first file of a station is the one
search and nearest return: the newest 15-year TMYx window, measured data before ERA5 reanalysis, and
the full-record plain TMYx after the windows.
"""

from __future__ import annotations

import array
import gzip
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from epcloud.weather.indexfile import ENTRY_ARRAYS, LOCATION_STRINGS, SCALES, StationTable
from epcloud.weather.stations import ONEBUILDING_URL, StationIndex, file_prefix, parse_file_stem

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "weather" / "onebuilding-stations.json.gz"
DEFAULT_OUTPUT = ROOT / "src" / "epcloud" / "data" / "stations.bin.gz"
RAW_FIELDS = {
    "lat": "latitude",
    "lon": "longitude",
    "tz": "timezone",
    "elev": "elevation",
    "heat": "heating_design_db_c",
    "cool": "cooling_design_db_c",
    "hdd": "hdd18",
    "cdd": "cdd10",
}


def preference(entry: dict[str, Any]) -> tuple[int, int, str]:
    """Sort key: newest 15-year window first, measured before reanalysis, plain TMYx last."""
    end = re.search(r"(\d{4})$", entry["dataset"])
    return (-int(end.group(1)) if end else 0, entry["source"] == "ERA5-TMYx", entry["dataset"])


def read_entries(source: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The listing's entries, with the station facts taken from the file name (the name is what is served)."""
    raw = json.loads(gzip.decompress(source.read_bytes()))
    entries = []
    for item in raw["stations"]:
        url = item["url"]
        if not url.startswith(ONEBUILDING_URL + "/") or not url.endswith(".zip"):
            raise ValueError(f"unexpected URL {url!r}")
        folder, _, filename = url[len(ONEBUILDING_URL) + 1 :].rpartition("/")
        country, state, name, station_id, dataset = parse_file_stem(filename[: -len(".zip")])
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
    meta = {
        "built_at": raw["built_at"],
        "source": "climate.onebuilding.org station listings",
        "base_url": ONEBUILDING_URL,
    }
    return entries, meta


def region_names(folders: set[str]) -> dict[str, dict[str, str]]:
    """Country and state names from the site's folders: `.../USA_United_States_of_America/IL_Illinois`."""
    countries: dict[str, str] = {}
    states: dict[str, str] = {}
    for folder in folders:
        parts = folder.split("/")
        if len(parts) < 2:
            continue
        country, _, country_name = parts[1].partition("_")
        countries[country] = country_name.replace("_", " ")
        if len(parts) >= 3:
            state, _, state_name = parts[2].partition("_")
            states[f"{country}/{state}"] = state_name.replace("_", " ")
    return {"countries": dict(sorted(countries.items())), "states": dict(sorted(states.items()))}


def build(source: Path) -> StationTable:
    entries, meta = read_entries(source)
    by_station: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        by_station[entry["id"]].append(entry)
    stations = [sorted(group, key=preference) for group in by_station.values()]
    stations.sort(key=lambda g: (g[0]["country"], g[0]["state"], g[0]["name"], g[0]["id"]))

    tables = {
        "dirs": sorted({e["dir"] for e in entries}),
        "zones": sorted({e["ashrae_climate_zone"] for e in entries}),
        "sources": sorted({e["source"] for e in entries}),
        "datasets": sorted({e["dataset"] for e in entries}),
    }
    index_of = {key: {value: i for i, value in enumerate(values)} for key, values in tables.items()}
    table = StationTable(meta=meta, tables=tables, names=region_names(set(tables["dirs"])))
    table.strings = {name: [] for name in (*LOCATION_STRINGS, "prefix")}
    table.arrays = {name: array.array(code) for name, code in ENTRY_ARRAYS.items()}
    for group in stations:
        head = group[0]
        for name in LOCATION_STRINGS:
            table.strings[name].append(head[name])
        table.first.append(len(table.strings["prefix"]))
        own_prefix = file_prefix(head["country"], head["state"], head["name"], head["id"])
        for entry in group:
            prefix = file_prefix(entry["country"], entry["state"], entry["name"], entry["id"])
            table.strings["prefix"].append("" if prefix == own_prefix else prefix)
            table.arrays["dataset"].append(index_of["datasets"][entry["dataset"]])
            table.arrays["source"].append(index_of["sources"][entry["source"]])
            table.arrays["dir"].append(index_of["dirs"][entry["dir"]])
            table.arrays["zone"].append(index_of["zones"][entry["ashrae_climate_zone"]])
            for column, raw_field in RAW_FIELDS.items():
                table.arrays[column].append(round(entry[raw_field] * SCALES.get(column, 1)))
    table.first.append(len(table.strings["prefix"]))
    check(table, entries)
    return table


def check(table: StationTable, entries: list[dict[str, Any]]) -> None:
    """Every source URL must come back out of the index unchanged."""
    index = StationIndex(StationTable.from_bytes(table.to_bytes()))
    urls = {file.url for station in index for file in index.datasets(station)}
    missing = {e["url"] for e in entries} - urls
    if missing or len(urls) != len(entries):
        raise ValueError(f"{len(missing)} URLs do not round-trip, e.g. {sorted(missing)[:3]}")


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else DEFAULT_SOURCE
    output = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    table = build(source)
    output.write_bytes(table.to_bytes())
    print(
        f"{output}: {table.location_count} stations, {len(table.strings['prefix'])} weather files, "
        f"{output.stat().st_size / 1e6:.2f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The offline index of climate.onebuilding.org weather stations: search, nearest, filter, get.

A station (one WMO number) usually has several weather files: 15-year TMYx windows and the full-record
TMYx. Queries return one file per station, the preferred one (the newest window, measured data before
ERA5 reanalysis); :meth:`StationIndex.datasets` lists them all. The index is the one bundled with
epcloud, or the one `StationIndex.refresh` last rebuilt from the site's listings (see `.refresh`).
"""

from __future__ import annotations

import bisect
import heapq
import logging
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

from epcloud.errors import StationNotFoundError
from epcloud.weather import search as _search
from epcloud.weather.indexfile import LOCATION_STRINGS, SCALES, StationTable

__all__ = [
    "ONEBUILDING_URL",
    "NearestResult",
    "SearchResult",
    "SpatialResult",
    "StationIndex",
    "WeatherStation",
    "file_prefix",
    "parse_file_stem",
]

logger = logging.getLogger(__name__)

ONEBUILDING_URL = "https://climate.onebuilding.org"
_BUNDLED = "data/stations.bin.gz"
_EARTH_RADIUS_KM = 6371.0088
_STEM = re.compile(
    r"^(?P<country>[A-Z]{3})_(?:(?P<state>[^_]*)_)?(?P<name>.+)\.(?P<id>[^._]+)_(?P<dataset>[^_]+)$"
)


def parse_file_stem(stem: str) -> tuple[str, str, str, str, str]:
    """Split ``USA_IL_Chicago.OHare.Intl.AP.725300_TMYx.2011-2025`` into country, state, name, WMO and
    dataset."""
    found = _STEM.match(stem)
    if found is None:
        raise ValueError(f"not a climate.onebuilding.org weather file name: {stem!r}")
    return found["country"], found["state"] or "", found["name"], found["id"], found["dataset"]


def file_prefix(country: str, state: str, name: str, station_id: str) -> str:
    """A station's file names up to the dataset: ``USA_IL_Chicago.OHare.Intl.AP.725300``."""
    region = f"{country}_{state}" if state else country
    return f"{region}_{name}.{station_id}"


def _without_suffix(name: str) -> str:
    for suffix in (".zip", ".epw", ".ddy", ".stat"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class WeatherStation:
    """One weather file of a station: place, design facts (°C, degree-days) and the URL of its ZIP.

    ``design_conditions_source_wmo`` is the WMO number of the neighbouring station whose design conditions
    the site gives this one (None when they are its own).
    """

    name: str
    country: str
    state: str
    wmo: str
    source: str
    dataset: str
    latitude: float
    longitude: float
    elevation: float
    timezone: float
    climate_zone: str
    url: str
    heating_design_db_c: float
    cooling_design_db_c: float
    hdd18: int
    cdd10: int
    design_conditions_source_wmo: str | None = None

    @property
    def display_name(self) -> str:
        """``Chicago OHare Intl AP, IL, USA``."""
        return ", ".join(part for part in (self.name.replace(".", " "), self.state, self.country) if part)

    @property
    def file_stem(self) -> str:
        """The canonical EPW stem, the ZIP's name: ``USA_IL_Chicago.OHare.Intl.AP.725300_TMYx.2011-2025``."""
        return self.url.rsplit("/", 1)[-1].removesuffix(".zip")

    # -- idfkit names (docs/idfkit.md) ----------------------------------------------------------

    @property
    def city(self) -> str:
        """idfkit's name for `name`."""
        return self.name

    @property
    def ashrae_climate_zone(self) -> str:
        """idfkit's name for `climate_zone`."""
        return self.climate_zone

    @property
    def filename_stem(self) -> str:
        """idfkit's name for `file_stem`."""
        return self.file_stem

    @property
    def dataset_variant(self) -> str:
        """idfkit's name for `dataset`."""
        return self.dataset

    @property
    def heating_design_db_f(self) -> float:
        """`heating_design_db_c` in °F (as idfkit offers it)."""
        return self.heating_design_db_c * 9 / 5 + 32

    @property
    def cooling_design_db_f(self) -> float:
        """`cooling_design_db_c` in °F (as idfkit offers it)."""
        return self.cooling_design_db_c * 9 / 5 + 32

    def to_dict(self) -> dict[str, Any]:
        """The station as plain JSON-safe values, under epcloud's field names."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WeatherStation:
        """A station from `to_dict`'s output or from idfkit's (``city``, ``ashrae_climate_zone``; the
        dataset then comes from the URL); a missing field raises KeyError naming it
        (``design_conditions_source_wmo`` may be missing or None)."""
        values = dict(data)
        for idfkit_name, name in (("city", "name"), ("ashrae_climate_zone", "climate_zone")):
            if name not in values and idfkit_name in values:
                values[name] = values[idfkit_name]
        if "dataset" not in values and "url" in values:
            values["dataset"] = str(values["url"]).rsplit("/", 1)[-1].removesuffix(".zip").rsplit("_", 1)[-1]
        kinds = {"hdd18": int, "cdd10": int}
        converted: dict[str, Any] = {}
        design_wmo = values.pop("design_conditions_source_wmo", None)
        converted["design_conditions_source_wmo"] = None if design_wmo in (None, "") else str(design_wmo)
        for f in fields(cls):
            if f.name in converted:
                continue
            if f.name not in values:
                raise KeyError(f"a WeatherStation needs {f.name!r}; the dictionary has {sorted(data)}")
            convert = kinds.get(f.name, float if f.type == "float" else str)
            converted[f.name] = convert(values[f.name])
        return cls(**converted)


@dataclass(frozen=True)
class SearchResult:
    """A station matching a query; ``score`` is the match class (100 best), ``matched`` the field."""

    station: WeatherStation
    score: float
    matched: str

    @property
    def match_field(self) -> str:
        """idfkit's name for `matched`."""
        return self.matched


@dataclass(frozen=True)
class NearestResult:
    """A station and its great-circle distance from the asked point."""

    station: WeatherStation
    distance_km: float


#: idfkit's name for `NearestResult`.
SpatialResult = NearestResult


class StationIndex:
    """All known weather stations; :meth:`load` reads the refreshed or bundled index (offline, fast).

    ``StationIndex(stations)`` builds an index of a list of `WeatherStation` objects (as
    `from_stations`); ``path`` is the file the index was read from, None for the bundled one.
    """

    def __init__(self, table: StationTable | Iterable[WeatherStation], path: Path | None = None) -> None:
        if not isinstance(table, StationTable):
            from epcloud.weather.indexbuild import table_of_stations

            table = table_of_stations(table)
        self._table = table
        self.path = path
        self._stations: dict[int, WeatherStation] = {}
        self._ids: dict[str, int] | None = None
        self._stems: dict[str, int] | None = None
        self._keys: list[_search.StationKeys] | None = None
        self._radians: tuple[list[float], list[float]] | None = None

    @classmethod
    def load(
        cls, path: str | PathLike[str] | None = None, *, cache_dir: str | PathLike[str] | None = None
    ) -> StationIndex:
        """An index file (built by `refresh` or ``scripts/build_station_index.py``), else the index
        `refresh` wrote into ``cache_dir`` (default: the epcloud cache's weather folder) unless the
        bundled index was built from newer listings, else the bundled index. Reads no network.

        Raises:
            WeatherFormatError: naming the file, when an index file cannot be read.
        """
        from epcloud.weather.refresh import read_table, refreshed_index_path

        if path is not None:
            return cls(read_table(Path(path)), Path(path))
        bundled = resources.files("epcloud").joinpath(_BUNDLED).read_bytes()
        refreshed = refreshed_index_path(cache_dir)
        if refreshed.is_file():
            table = read_table(refreshed)
            bundled_at = _listing_date(StationTable.read_meta(bundled))
            if _listing_date(table.meta) >= bundled_at:
                return cls(table, refreshed)
            logger.info(
                "the bundled station index (listings of %s) is newer than %s; using the bundled one",
                bundled_at.isoformat(),
                refreshed,
            )
        return cls(StationTable.from_bytes(bundled))

    @classmethod
    def from_stations(cls, stations: Iterable[WeatherStation]) -> StationIndex:
        """An index of these stations (each `WeatherStation` is one weather file), e.g. a filtered list.

        Raises:
            ValueError: naming a station whose name, country, state, WMO number or dataset is not the one
                its URL's file name says, or whose URL is not a ``.zip``.
        """
        return cls(list(stations))

    @classmethod
    def refresh(
        cls,
        *,
        cache_dir: str | PathLike[str] | None = None,
        base_url: str | None = None,
        timeout: float = 60.0,
    ) -> StationIndex:
        """Download climate.onebuilding.org's regional KML listings, rebuild the index from them and keep
        it in ``cache_dir`` (default: the epcloud cache's weather folder), where `load` finds it. When
        this fails, the index already in ``cache_dir`` is kept as it was.

        Args:
            base_url: a site laid out like climate.onebuilding.org (default ``$EPCLOUD_WEATHER_BASE_URL``,
                else https://climate.onebuilding.org); the listings are its ``sources/*.kml``.
            timeout: seconds to wait for the server, per request.

        Raises:
            WeatherDownloadError: naming the URL of a listing that cannot be downloaded.
            WeatherFormatError: naming the URL and line of a listing that does not parse.
        """
        from epcloud.weather.refresh import refresh_index

        table, path = refresh_index(cache_dir=cache_dir, base_url=base_url, timeout=timeout)
        return cls(table, path)

    def check_for_updates(self, *, base_url: str | None = None, timeout: float = 30.0) -> bool:
        """Whether a listing on climate.onebuilding.org changed since this index was built: one HEAD
        request per listing, comparing its ``Last-Modified`` with `last_modified` (a listing without a
        recorded date counts as changed). Raises WeatherDownloadError naming the URL when the site
        cannot be reached. ``base_url`` as for `refresh`."""
        from epcloud.weather.refresh import listing_changes

        changes = listing_changes(self.last_modified, base_url=base_url, timeout=timeout)
        for change in changes:
            logger.info(
                "%s changed: indexed %s, now %s", change.url, change.indexed or "(no date)", change.current
            )
        return bool(changes)

    @property
    def built_at(self) -> str:
        """When the station listing the index was built from was compiled (ISO 8601)."""
        return str(self._table.meta.get("built_at", ""))

    @property
    def last_modified(self) -> dict[str, str]:
        """The ``Last-Modified`` date of each listing file the index was built from (by file name)."""
        return dict(self._table.meta.get("last_modified", {}))

    def __len__(self) -> int:
        return self._table.location_count

    def __iter__(self) -> Iterator[WeatherStation]:
        return (self._preferred(location) for location in range(len(self)))

    def __repr__(self) -> str:
        return f"<StationIndex {len(self)} stations, {len(self._table.strings['prefix'])} weather files>"

    # ------------------------------------------------------------ lookups

    def get(self, wmo: str | int, dataset: str | None = None) -> WeatherStation:
        """The station with this WMO number (its preferred file, or the named ``dataset`` such as
        ``"TMYx.2009-2023"``); raises :class:`StationNotFoundError`."""
        location = self._location(wmo)
        if dataset is None:
            return self._preferred(location)
        files = self._files(location)
        for station in files:
            if station.dataset.lower() == dataset.lower():
                return station
        available = ", ".join(station.dataset for station in files)
        raise StationNotFoundError(f"station {wmo} has no {dataset!r} weather file; it has: {available}")

    def datasets(self, station: WeatherStation | str | int) -> list[WeatherStation]:
        """Every weather file of a station (given as a station or WMO number), the preferred first."""
        return self._files(self._location(station.wmo if isinstance(station, WeatherStation) else station))

    def filter(
        self,
        country: str | None = None,
        state: str | None = None,
        climate_zone: str | None = None,
        wmo_region: int | None = None,
    ) -> list[WeatherStation]:
        """Stations in a country and/or state (code or name) and/or ASHRAE climate zone ("5A", "4") and/or
        WMO region (1 Africa ... 7 Antarctica, as climate.onebuilding.org files them)."""
        t = self._table
        countries = t.strings["country"]
        code = self._country_code(country) if country else None
        wanted_state = state.strip().lower() if state else None
        zone = climate_zone.strip().upper() if climate_zone else None
        region = f"wmo_region_{int(wmo_region)}_" if wmo_region is not None else None
        result = []
        for location in range(len(self)):
            if code is not None and countries[location] != code:
                continue
            if region is not None:
                folder = t.tables["dirs"][t.arrays["dir"][t.first[location]]]
                if not folder.lower().startswith(region):
                    continue
            if wanted_state is not None and wanted_state not in self._state_names(location):
                continue
            if zone is not None:
                zone_text = t.tables["zones"][t.arrays["zone"][t.first[location]]]
                if not zone_text.split(" - ")[0].upper().startswith(zone):
                    continue
            result.append(self._preferred(location))
        return result

    # ------------------------------------------------------------ queries

    def search(self, query: str, limit: int = 10, country: str | None = None) -> list[SearchResult]:
        """Stations matching a name, WMO number or file name, best first (see :mod:`.search`)."""
        if limit <= 0:
            return []
        allowed = None
        if country:
            code = self._country_code(country)
            allowed = [c == code for c in self._table.strings["country"]]
        results: list[SearchResult] = []
        stem = _without_suffix(query.strip()).lower()
        exact = self._stem_map().get(stem) if "_" in stem else None  # every file name has an "_"
        if exact is not None:
            location = self._location_of(exact)
            if allowed is None or allowed[location]:
                results.append(SearchResult(self._station(exact, location), 100.0, "file"))
                allowed = allowed or [True] * len(self)
                allowed[location] = False
        for score, location, matched in _search.find(query, self._search_keys(), allowed):
            if len(results) >= limit:
                break
            results.append(SearchResult(self._preferred(location), float(score), matched))
        return results

    def nearest(
        self,
        latitude: float,
        longitude: float,
        limit: int = 5,
        max_distance_km: float | None = None,
        country: str | None = None,
    ) -> list[NearestResult]:
        """The stations closest to a point (great-circle distance), nearest first, one file each;
        ``country`` (code or name) keeps only that country's stations."""
        if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
            raise ValueError(f"not a point on Earth: latitude {latitude}, longitude {longitude}")
        lats, lons = self._coordinates()
        lat0, lon0 = math.radians(latitude), math.radians(longitude)
        cos0 = math.cos(lat0)
        sin, cos, asin, sqrt = math.sin, math.cos, math.asin, math.sqrt

        def distance(location: int) -> float:
            lat, lon = lats[location], lons[location]
            h = sin((lat - lat0) / 2) ** 2 + cos0 * cos(lat) * sin((lon - lon0) / 2) ** 2
            return 2 * _EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))

        candidates: Iterable[int] = range(len(self))
        if country:
            code = self._country_code(country)
            countries = self._table.strings["country"]
            candidates = (i for i in candidates if countries[i] == code)
        closest = heapq.nsmallest(limit, ((distance(i), i) for i in candidates))
        return [
            NearestResult(self._preferred(location), round(km, 3))
            for km, location in closest
            if max_distance_km is None or km <= max_distance_km
        ]

    # ------------------------------------------------------------ idfkit names (docs/idfkit.md)

    @property
    def stations(self) -> list[WeatherStation]:
        """Every weather file of every station (idfkit lists each dataset as a station of its own)."""
        return [station for location in range(len(self)) for station in self._files(location)]

    @property
    def countries(self) -> list[str]:
        """The country codes of the index, sorted."""
        return sorted(set(self._table.strings["country"]))

    def get_by_wmo(self, wmo: str | int) -> list[WeatherStation]:
        """idfkit's lookup: `datasets` of this WMO number, or an empty list when no station has it."""
        try:
            return self.datasets(wmo)
        except StationNotFoundError:
            return []

    def get_by_filename(self, filename: str) -> list[WeatherStation]:
        """The weather file with this name (``.zip``/``.epw``/``.ddy``/``.stat`` optional), else every file
        of the WMO number the name carries, else an empty list (as idfkit answers)."""
        stem = _without_suffix(filename.strip())
        entry = self._stem_map().get(stem.lower())
        if entry is not None:
            return [self._station(entry, self._location_of(entry))]
        try:
            wmo = parse_file_stem(stem)[3]
        except ValueError:
            return []
        return self.get_by_wmo(wmo)

    # ------------------------------------------------------------ internals

    def _location(self, wmo: str | int) -> int:
        key = f"{wmo:06d}" if isinstance(wmo, int) else str(wmo).strip()
        location = self._id_map().get(key.upper())
        if location is None:
            raise StationNotFoundError(
                f"no weather station with WMO number {key!r} among the {len(self)} stations of the index; "
                "search by name with StationIndex.search() or `epcloud weather search NAME`"
            )
        return location

    def _preferred(self, location: int) -> WeatherStation:
        return self._station(self._table.first[location], location)

    def _files(self, location: int) -> list[WeatherStation]:
        first = self._table.first
        return [self._station(entry, location) for entry in range(first[location], first[location + 1])]

    def _location_of(self, entry: int) -> int:
        return bisect.bisect_right(self._table.first, entry) - 1

    def _station(self, entry: int, location: int) -> WeatherStation:
        station = self._stations.get(entry)
        if station is not None:
            return station
        t = self._table
        dataset = t.tables["datasets"][t.arrays["dataset"][entry]]
        prefix = t.strings["prefix"][entry]
        if prefix:
            country, state, name, station_id, _ = parse_file_stem(f"{prefix}_{dataset}")
        else:
            country, state, name, station_id = (t.strings[c][location] for c in LOCATION_STRINGS)
            prefix = file_prefix(country, state, name, station_id)
        folder = t.tables["dirs"][t.arrays["dir"][entry]]
        base = "" if "://" in folder else str(t.meta.get("base_url", ONEBUILDING_URL))
        design_wmo = t.strings["design_wmo"][entry]
        station = WeatherStation(
            name=name,
            country=country,
            state=state,
            wmo=station_id,
            source=t.tables["sources"][t.arrays["source"][entry]],
            dataset=dataset,
            latitude=t.value("lat", entry),
            longitude=t.value("lon", entry),
            elevation=t.value("elev", entry),
            timezone=t.value("tz", entry),
            climate_zone=t.tables["zones"][t.arrays["zone"][entry]],
            url="/".join(part for part in (base, folder, f"{prefix}_{dataset}.zip") if part),
            heating_design_db_c=t.value("heat", entry),
            cooling_design_db_c=t.value("cool", entry),
            hdd18=t.arrays["hdd"][entry],
            cdd10=t.arrays["cdd"][entry],
            design_conditions_source_wmo=design_wmo or None,
        )
        self._stations[entry] = station
        return station

    def _id_map(self) -> dict[str, int]:
        if self._ids is None:
            self._ids = {sid.upper(): i for i, sid in enumerate(self._table.strings["id"])}
        return self._ids

    def _stem_map(self) -> dict[str, int]:
        """Lower-case file stem -> entry, for exact file-name queries."""
        if self._stems is None:
            t = self._table
            strings, datasets, first = t.strings, t.tables["datasets"], t.first
            stems: dict[str, int] = {}
            for location in range(len(self)):
                own = file_prefix(*(strings[c][location] for c in LOCATION_STRINGS))
                for entry in range(first[location], first[location + 1]):
                    prefix = strings["prefix"][entry] or own
                    stems[f"{prefix}_{datasets[t.arrays['dataset'][entry]]}".lower()] = entry
            self._stems = stems
        return self._stems

    def _search_keys(self) -> list[_search.StationKeys]:
        if self._keys is None:
            s = self._table.strings
            country_names, state_names = self._table.names["countries"], self._table.names["states"]
            regions: dict[tuple[str, str], tuple[frozenset[str], frozenset[str], str]] = {}
            keys = []
            columns = (s["name"], s["id"], s["country"], s["state"])
            for name, station_id, country, state in zip(*columns, strict=True):
                region = regions.get((country, state))
                if region is None:
                    state_words = _search.region_words(state, state_names.get(f"{country}/{state}", ""))
                    country_words = _search.region_words(country, country_names.get(country, ""))
                    words = state_words | country_words
                    region = regions[(country, state)] = (state_words, words, " ".join(sorted(words)))
                keys.append(_search.StationKeys.build(name, station_id, country, state, *region))
            self._keys = keys
        return self._keys

    def _coordinates(self) -> tuple[list[float], list[float]]:
        if self._radians is None:
            t = self._table
            starts = t.first[:-1]
            lat, lon = t.arrays["lat"], t.arrays["lon"]
            scale = math.pi / 180 / SCALES["lat"]
            self._radians = ([lat[e] * scale for e in starts], [lon[e] * scale for e in starts])
        return self._radians

    def _country_code(self, country: str) -> str:
        wanted = country.strip().lower()
        names = self._table.names["countries"]
        for code in set(self._table.strings["country"]):
            if wanted in (code.lower(), names.get(code, "").lower()):
                return code
        raise StationNotFoundError(
            f"no weather station in country {country!r}; use a 3-letter code (USA, DEU) or a name (Germany)"
        )

    def _state_names(self, location: int) -> tuple[str, str]:
        s = self._table.strings
        country, state = s["country"][location], s["state"][location]
        return state.lower(), self._table.names["states"].get(f"{country}/{state}", "").lower()


def _listing_date(meta: dict[str, Any]) -> datetime:
    """How current an index is: its newest listing's Last-Modified date, else when it was built."""
    dates = []
    for text in dict(meta.get("last_modified", {})).values():
        try:
            date = parsedate_to_datetime(str(text))
        except (TypeError, ValueError):
            continue
        dates.append(date if date.tzinfo else date.replace(tzinfo=timezone.utc))
    if dates:
        return max(dates)
    try:
        built = datetime.fromisoformat(str(meta.get("built_at", "")).replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)
    return built if built.tzinfo else built.replace(tzinfo=timezone.utc)

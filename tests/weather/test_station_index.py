"""The bundled station index: loading, search ranking, nearest, filter, exact lookups."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from epcloud.errors import StationNotFoundError
from epcloud.weather import StationIndex, WeatherStation
from epcloud.weather.indexfile import StationTable
from epcloud.weather.stations import parse_file_stem

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE = (
    Path(os.environ.get("EPCLOUD_SHARED_DIR", REPO_ROOT.parent / "shared"))
    / "weather"
    / ("onebuilding-stations.json.gz")
)


def test_bundled_index_holds_every_station(station_index: StationIndex) -> None:
    assert len(station_index) > 17_000
    assert len(list(station_index)) == len(station_index)
    assert station_index.built_at.startswith("20")


def test_chicago_ranks_ohare_first(station_index: StationIndex) -> None:
    results = station_index.search("chicago")
    assert results[0].station.wmo == "725300"
    assert results[0].station.name == "Chicago.OHare.Intl.AP"
    assert results[0].matched == "name"
    assert len({r.station.wmo for r in results}) == len(results)  # one file per station
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    assert all("chicago" in r.station.name.lower() for r in results)


@pytest.mark.parametrize(
    ("query", "wmo"),
    [
        ("Chicago IL", "725300"),
        ("chicago o'hare", "725300"),
        ("O'Hare", "725300"),
        ("725300", "725300"),
        ("USA_IL_Chicago-OHare.Intl.AP.725300_TMY3", "725300"),  # the engine's file name carries the WMO
        ("london", "037720"),  # Heathrow: England has more London stations than Ontario
        ("new york", "744860"),  # JFK: the primary international airport
        ("São Paulo", "830750"),
    ],
)
def test_search_ranking(station_index: StationIndex, query: str, wmo: str) -> None:
    assert station_index.search(query, limit=3)[0].station.wmo == wmo


def test_wmo_search_is_exact(station_index: StationIndex) -> None:
    results = station_index.search("725300")
    assert (results[0].station.wmo, results[0].score, results[0].matched) == ("725300", 100.0, "wmo")
    assert all(r.station.wmo != "725300" for r in results[1:])


def test_exact_file_name_finds_that_dataset(station_index: StationIndex) -> None:
    result = station_index.search("USA_IL_Chicago.OHare.Intl.AP.725300_TMYx.2004-2018.zip")[0]
    assert result.station.dataset == "TMYx.2004-2018"
    assert (result.score, result.matched) == (100.0, "file")


def test_search_by_state_country_and_file_fragment(station_index: StationIndex) -> None:
    illinois = station_index.search("illinois", limit=20)
    assert {r.station.state for r in illinois} == {"IL"}
    by_state = [r for r in illinois if r.matched == "state"]  # after stations with "Illinois" in the name
    assert by_state[0].station.wmo == "725300" and by_state[0].score == 65
    assert {r.station.country for r in station_index.search("germany", limit=5)} == {"DEU"}
    fragment = station_index.search("ohareintl")
    assert (fragment[0].station.wmo, fragment[0].matched) == ("725300", "file")


def test_search_country_filter(station_index: StationIndex) -> None:
    results = station_index.search("london", country="CAN")
    assert results and {r.station.country for r in results} == {"CAN"}
    assert station_index.search("london", country="Canada")[0] == results[0]
    with pytest.raises(StationNotFoundError, match="Atlantis"):
        station_index.search("london", country="Atlantis")


def test_search_nothing(station_index: StationIndex) -> None:
    assert station_index.search("") == []
    assert station_index.search("  ,; ") == []
    assert station_index.search("qqqzzzxxx") == []
    assert station_index.search("chicago", limit=0) == []
    assert len(station_index.search("chicago", limit=2)) == 2


def test_nearest_returns_distinct_stations_by_distance(station_index: StationIndex) -> None:
    results = station_index.nearest(41.98, -87.9)
    assert len(results) == 5
    assert results[0].station.wmo == "725300"
    assert results[0].distance_km < 5
    distances = [r.distance_km for r in results]
    assert distances == sorted(distances)
    assert len({r.station.wmo for r in results}) == 5


def test_nearest_limits(station_index: StationIndex) -> None:
    assert all(r.distance_km <= 20 for r in station_index.nearest(41.98, -87.9, limit=50, max_distance_km=20))
    assert len(station_index.nearest(41.98, -87.9, limit=50, max_distance_km=20)) < 50
    assert station_index.nearest(0.0, -160.0, limit=3, max_distance_km=1) == []  # mid-Pacific
    with pytest.raises(ValueError, match="not a point"):
        station_index.nearest(95.0, 0.0)


def test_get_is_exact(station_index: StationIndex, ohare: WeatherStation) -> None:
    assert station_index.get(725300) == ohare == station_index.get(" 725300 ")
    assert ohare.dataset == "TMYx.2011-2025"  # the newest 15-year window is preferred
    assert station_index.get(39620).wmo == "039620"  # an int loses the leading zero; get() restores it
    with pytest.raises(StationNotFoundError, match="'999999'"):
        station_index.get("999999")


def test_datasets_lists_every_file_preferred_first(
    station_index: StationIndex, ohare: WeatherStation
) -> None:
    files = station_index.datasets(ohare)
    assert files[0] == ohare
    assert {f.dataset for f in files} == {
        "TMYx",
        "TMYx.2004-2018",
        "TMYx.2007-2021",
        "TMYx.2009-2023",
        "TMYx.2011-2025",
    }
    assert len({f.url for f in files}) == len(files)
    older = station_index.get("725300", dataset="tmyx.2004-2018")
    assert older.file_stem == "USA_IL_Chicago.OHare.Intl.AP.725300_TMYx.2004-2018"
    assert older.source == "Custom-725300"
    with pytest.raises(StationNotFoundError, match=r"it has: TMYx\.2011-2025"):
        station_index.get("725300", dataset="TMY3")


def test_station_facts(ohare: WeatherStation) -> None:
    assert ohare.display_name == "Chicago OHare Intl AP, IL, USA"
    assert ohare.url.startswith("https://climate.onebuilding.org/WMO_Region_4")
    assert ohare.url.endswith(f"/{ohare.file_stem}.zip")
    parts = ("USA", "IL", "Chicago.OHare.Intl.AP", "725300", "TMYx.2011-2025")
    assert parse_file_stem(ohare.file_stem) == parts
    assert (ohare.latitude, ohare.longitude, ohare.timezone) == (41.96, -87.932, -6.0)
    assert ohare.climate_zone == "5A - Cool - Humid"
    assert (ohare.heating_design_db_c, ohare.cooling_design_db_c) == (-15.3, 31.5)
    assert ohare.hdd18 > 3000 and ohare.cdd10 > 1000


def test_stations_without_state_or_wmo_number(station_index: StationIndex) -> None:
    guantanamo = station_index.get("783670")
    assert guantanamo.state == "" and guantanamo.file_stem.startswith("CUB_Guantanamo.Bay.NAS.783670_")
    natanz = station_index.get("IRN101")  # no WMO number: the file name's station id stands in
    assert (natanz.name, natanz.country) == ("Natanz", "IRN")


def test_filter(station_index: StationIndex) -> None:
    illinois = station_index.filter(country="usa", state="IL")
    assert len(illinois) > 30 and {s.state for s in illinois} == {"IL"}
    assert station_index.filter(state="Illinois", country="United States of America") == illinois
    cool_humid = station_index.filter(country="USA", climate_zone="5a")
    assert cool_humid and all(s.climate_zone.startswith("5A") for s in cool_humid)
    zone_5 = {s.climate_zone[:2] for s in station_index.filter(country="USA", climate_zone="5")}
    assert zone_5 == {"5A", "5B", "5C"}
    assert len(station_index.filter()) == len(station_index)


def test_index_file_round_trip_and_bad_file(tmp_path: Path, station_index: StationIndex) -> None:
    path = tmp_path / "stations.bin.gz"
    path.write_bytes(station_index._table.to_bytes())
    copy = StationIndex.load(path)
    assert len(copy) == len(station_index) and copy.get("725300") == station_index.get("725300")
    path.write_bytes(__import__("gzip").compress(b"something else"))
    with pytest.raises(ValueError, match="not an epcloud station index"):
        StationTable.from_bytes(path.read_bytes())


@pytest.mark.skipif(not SOURCE.is_file(), reason=f"station listing not found at {SOURCE}")
def test_bundled_index_is_built_from_the_shared_listing(station_index: StationIndex) -> None:
    spec = importlib.util.spec_from_file_location(
        "build_station_index", REPO_ROOT / "scripts" / "build_station_index.py"
    )
    assert spec and spec.loader
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    rebuilt = builder.build(SOURCE).to_bytes()
    bundled = (REPO_ROOT / "src" / "epcloud" / "data" / "stations.bin.gz").read_bytes()
    assert rebuilt == bundled, "run scripts/build_station_index.py and commit the bundled index"

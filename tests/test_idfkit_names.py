"""idfkit's public names on epcloud's objects: each one exists and gives what epcloud's own name gives.

The lists below are idfkit's public attributes (properties, methods, fields, constructor keywords) of
the classes SPEC §0 names; docs/idfkit.md maps them. Every object is a real one: the bundled station
index, a local HTTP server serving the engine's real weather files, real design-day EnergyPlus runs.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import fields
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from epcloud.engine import EnergyPlusConfig
from epcloud.errors import EnvironmentNotFoundError, StationNotFoundError, WeatherDownloadError
from epcloud.model import Shoebox
from epcloud.simulation import (
    BatchResult,
    SimulationJob,
    SimulationResult,
    SQLResult,
    simulate,
    simulate_batch,
)
from epcloud.weather import (
    NearestResult,
    PartialWeatherFiles,
    SpatialResult,
    StationIndex,
    WeatherDownloader,
    WeatherFiles,
    WeatherStation,
)
from epcloud.weather.listing import LISTING_FILES
from weather.listing_kml import kml

# idfkit's public names per class (its fields first, then properties and methods).
IDFKIT_STATION = [
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
    "to_dict",
    "from_dict",
    "display_name",
    "filename_stem",
    "dataset_variant",
    "heating_design_db_f",
    "cooling_design_db_f",
]
IDFKIT_INDEX = [
    "load",
    "search",
    "nearest",
    "filter",
    "stations",
    "countries",
    "get_by_wmo",
    "get_by_filename",
    "from_stations",
    "refresh",
    "check_for_updates",
]
IDFKIT_DOWNLOADER = [
    "download",
    "get_epw",
    "get_ddy",
    "get_epw_by_filename",
    "get_ddy_by_filename",
    "clear_cache",
]
IDFKIT_FILES = ["epw", "ddy", "stat", "zip_path", "station"]
IDFKIT_RESULT = [
    "run_dir",
    "success",
    "exit_code",
    "stdout",
    "stderr",
    "runtime_seconds",
    "output_prefix",
    "fs",
    "async_fs",
    "migration_report",
    "close",
    "errors",
    "sql",
    "sql_path",
    "err_path",
    "eso_path",
    "mtr_path",
    "csv_path",
    "html_path",
    "rdd_path",
    "mdd_path",
    "async_errors",
    "async_sql",
    "from_directory",
    "variables",
    "csv",
    "html",
    "eso",
    "mtr",
    "async_variables",
    "async_csv",
    "async_html",
    "async_eso",
    "async_mtr",
]
# idfkit's public names of the classes those readers return (idfkit.simulation's parsers and outputs).
IDFKIT_READERS = {
    "OutputVariableIndex": [
        "variables", "meters", "from_simulation", "from_files", "search", "filter_by_units",
        "add_all_to_model",
    ],
    "OutputVariable": ["key", "name", "frequency", "units"],
    "OutputMeter": ["name", "frequency", "units"],
    "CSVResult": ["timestamps", "columns", "from_file", "from_string", "get_column", "get_column_values"],
    "CSVColumn": ["header", "variable_name", "key_value", "units", "values"],
    "HTMLResult": [
        "tables", "from_file", "from_string", "titletable", "tablebyname", "tablebyindex", "tablesbyreport",
    ],
    "HTMLTable": ["title", "header", "rows", "report_name", "for_string", "to_dict"],
    "ESOResult": [
        "program_version", "variables", "environments", "columns", "from_bytes", "from_file", "from_string",
        "get_variable", "get_column", "to_dataframe",
    ],
    "ESOColumn": ["variable", "environment_index", "timestamps", "values", "to_dataframe", "plot"],
    "ESOVariable": ["report_id", "variable_name", "key_value", "units", "frequency", "num_values"],
    "ESOEnvironment": ["index", "title", "latitude", "longitude", "time_zone", "elevation"],
}  # fmt: skip
IDFKIT_JOB = [
    "model",
    "weather",
    "label",
    "output_dir",
    "expand_objects",
    "annual",
    "design_day",
    "output_prefix",
    "readvars",
    "timeout",
    "extra_args",
    "output_suffix",
    "preprocessor_timeout",
]
IDFKIT_BATCH = ["results", "total_runtime_seconds", "succeeded", "failed", "all_succeeded"]
IDFKIT_SQL = [
    "close",
    "get_timeseries",
    "get_tabular_data",
    "get_tabular_value",
    "list_variables",
    "list_environments",
    "list_reports",
    "to_dataframe",
    "query",
]
IDFKIT_TIMESERIES = [
    "variable_name",
    "key_value",
    "units",
    "frequency",
    "timestamps",
    "values",
    "to_dataframe",
    "plot",
]
IDFKIT_REPORT = [
    "fatal",
    "severe",
    "warnings",
    "info",
    "warmup_converged",
    "simulation_complete",
    "raw_text",
    "has_fatal",
    "has_severe",
    "fatal_count",
    "severe_count",
    "error_count",
    "warning_count",
    "summary",
    "from_file",
    "from_string",
]
IDFKIT_MESSAGE = ["severity", "message", "details"]


CHICAGO_STEM = "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3"


def _missing(obj: object, names: list[str] | tuple[str, ...]) -> list[str]:
    return [name for name in names if not hasattr(obj, name)]


# -- weather -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def index() -> StationIndex:
    return StationIndex.load()


@pytest.fixture(scope="module")
def ohare(index: StationIndex) -> WeatherStation:
    return index.get("725300")


def test_weather_station_has_idfkit_names(ohare: WeatherStation) -> None:
    assert _missing(ohare, IDFKIT_STATION) == []
    assert ohare.city == ohare.name == "Chicago.OHare.Intl.AP"
    assert ohare.ashrae_climate_zone == ohare.climate_zone
    assert ohare.ashrae_climate_zone.startswith("5A")
    assert ohare.filename_stem == ohare.file_stem
    assert ohare.dataset_variant == ohare.dataset
    assert ohare.filename_stem.endswith("_" + ohare.dataset_variant)
    assert ohare.heating_design_db_f == pytest.approx(ohare.heating_design_db_c * 1.8 + 32)
    assert ohare.cooling_design_db_f == pytest.approx(ohare.cooling_design_db_c * 1.8 + 32)
    assert ohare.display_name == "Chicago OHare Intl AP, IL, USA"


def test_station_dict_round_trip_and_idfkit_dicts(ohare: WeatherStation) -> None:
    data = ohare.to_dict()
    assert WeatherStation.from_dict(data) == ohare
    # A dictionary with idfkit's keys (no name/climate_zone/dataset: they come from city, zone and URL).
    idfkit_style = {k: v for k, v in data.items() if k not in ("name", "climate_zone", "dataset")}
    idfkit_style.update(city=ohare.city, ashrae_climate_zone=ohare.ashrae_climate_zone)
    idfkit_style["design_conditions_source_wmo"] = None
    assert WeatherStation.from_dict(idfkit_style) == ohare
    del idfkit_style["hdd18"]
    with pytest.raises(KeyError, match="hdd18"):
        WeatherStation.from_dict(idfkit_style)


def test_search_and_nearest_results_have_idfkit_names(index: StationIndex) -> None:
    found = index.search("chicago", limit=3, country="USA")
    assert found and all(r.match_field == r.matched for r in found)
    assert found[0].station.city.startswith("Chicago")
    assert SpatialResult is NearestResult
    near = index.nearest(41.96, -87.93, limit=3, max_distance_km=100.0)
    assert near and isinstance(near[0], SpatialResult) and near[0].distance_km < 1.0


def test_station_index_has_idfkit_names(index: StationIndex, ohare: WeatherStation) -> None:
    assert _missing(index, IDFKIT_INDEX) == []
    everything = index.stations
    assert len(everything) == len({s.url for s in everything}) > len(index)  # every file of every station
    assert set(index.datasets("725300")) <= set(everything)
    assert index.countries == sorted({s.country for s in index})
    assert {"USA", "CAN", "DEU"} <= set(index.countries)
    assert index.get_by_wmo("725300") == index.datasets("725300")
    assert index.get_by_wmo("999999999") == []
    assert index.get_by_filename(ohare.filename_stem + ".epw") == [ohare]
    other = index.datasets("725300")[-1]
    assert index.get_by_filename(other.file_stem.upper() + ".zip") == [other]
    # A file name the index does not list but whose WMO number it knows: that station's files.
    assert index.get_by_filename("USA_IL_Chicago.OHare.Intl.AP.725300_TMY9.epw") == index.datasets("725300")
    assert index.get_by_filename("not a weather file") == []


def test_nearest_country_and_filter_wmo_region(index: StationIndex) -> None:
    # Detroit is a few km from Windsor, Ontario: the nearest stations cross the border unless asked not to.
    anywhere = index.nearest(42.3, -83.05, limit=10)
    assert {r.station.country for r in anywhere} >= {"USA", "CAN"}
    canadian = index.nearest(42.3, -83.05, limit=10, country="CAN")
    assert canadian and all(r.station.country == "CAN" for r in canadian)
    across = [r for r in anywhere if r.station.country == "CAN"]
    assert across and canadian[: len(across)] == across
    region4 = index.filter(wmo_region=4)
    assert region4 and all("/WMO_Region_4_" in s.url for s in region4)
    assert any(s.wmo == "725300" for s in region4)
    assert not any(s.country == "DEU" for s in region4)
    german = index.filter(country="DEU", wmo_region=6)
    assert german == index.filter(country="DEU")


def test_station_index_refresh_check_and_from_stations(index: StationIndex, tmp_path: Path) -> None:
    """idfkit's flow: refresh() rebuilds the cached index that load() then reads; check_for_updates()
    compares the listings' Last-Modified (here a folder served by http.server, dated by file times)."""
    sources = tmp_path / "site" / "sources"
    sources.mkdir(parents=True)
    chosen = index.datasets("725300") + index.datasets("606305")
    for name in LISTING_FILES:
        (sources / name).write_bytes(kml(chosen if name.startswith("Region4_USA") else chosen[-1:]))
    site = _Mirror(tmp_path / "site")
    try:
        fresh = StationIndex.refresh(cache_dir=tmp_path / "cache", base_url=site.url)
        assert site.hits == len(LISTING_FILES)
        assert StationIndex.load(cache_dir=tmp_path / "cache").stations == fresh.stations
        assert sorted(fresh.stations, key=lambda s: s.url) == sorted(chosen, key=lambda s: s.url)
        assert fresh.get("606305").design_conditions_source_wmo == "606300"
        assert fresh.check_for_updates(base_url=site.url) is False
        assert site.hits == len(LISTING_FILES)  # HEAD requests only
        later = (sources / LISTING_FILES[3]).stat().st_mtime + 3600
        os.utime(sources / LISTING_FILES[3], (later, later))
        assert fresh.check_for_updates(base_url=site.url) is True
    finally:
        site.stop()
    assert StationIndex.from_stations(chosen).stations == StationIndex(chosen).stations == fresh.stations


class _Mirror:
    """A local HTTP server laid out like climate.onebuilding.org, counting requests."""

    def __init__(self, root: Path) -> None:
        self.hits = 0
        mirror = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                mirror.hits += 1
                super().do_GET()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def mirror(tmp_path: Path, ohare: WeatherStation, energyplus: EnergyPlusConfig) -> Iterator[_Mirror]:
    """O'Hare's ZIP (the engine's real Chicago files) at the path of the station's URL."""
    from urllib.parse import urlsplit

    target = tmp_path / "mirror" / urlsplit(ohare.url).path.lstrip("/")
    target.parent.mkdir(parents=True)
    with zipfile.ZipFile(target, "w") as zf:
        for ext in ("epw", "ddy", "stat"):
            zf.write(
                energyplus.weather_dir / f"USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.{ext}", f"chicago.{ext}"
            )
    server = _Mirror(tmp_path / "mirror")
    yield server
    server.stop()


def test_weather_downloader_has_idfkit_names(
    mirror: _Mirror, ohare: WeatherStation, index: StationIndex, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    downloader = WeatherDownloader(cache_dir=cache, base_url=mirror.url, max_age=timedelta(days=30))
    assert _missing(downloader, IDFKIT_DOWNLOADER) == []
    files = downloader.download(ohare, only={".epw", "DDY"})
    assert isinstance(files, PartialWeatherFiles) and PartialWeatherFiles is WeatherFiles
    assert _missing(files, IDFKIT_FILES) == []
    assert files.zip_path is not None and zipfile.is_zipfile(files.zip_path)
    assert files.zip_path == files.epw.with_suffix(".zip")
    assert downloader.get_epw(ohare) == files.epw
    assert downloader.get_ddy(ohare) == files.ddy
    assert downloader.get_epw_by_filename(ohare.filename_stem + ".epw", index=index) == files.epw
    assert downloader.get_ddy_by_filename(ohare.filename_stem, index=index) == files.ddy
    assert mirror.hits == 1  # everything after the first download came from the cache
    with pytest.raises(StationNotFoundError, match="no weather file named"):
        downloader.get_epw_by_filename("nowhere", index=index)
    with pytest.raises(ValueError, match=r"only= names \.csv"):
        downloader.download(ohare, only=[".csv"])
    (cache / "notes.txt").write_text("mine")
    downloader.clear_cache()
    assert sorted(p.name for p in cache.iterdir()) == ["notes.txt"]
    assert downloader.cached(ohare) is None


def test_max_age_downloads_stale_files_again(mirror: _Mirror, ohare: WeatherStation, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    WeatherDownloader(cache_dir=cache, base_url=mirror.url).download(ohare)
    fresh = WeatherDownloader(cache_dir=cache, base_url=mirror.url, max_age=3600.0)
    assert fresh.cached(ohare) is not None
    fresh.download(ohare)
    assert mirror.hits == 1
    stale = WeatherDownloader(cache_dir=cache, base_url=mirror.url, max_age=0)
    assert stale.cached(ohare) is None
    files = stale.download(ohare)
    assert mirror.hits == 2
    assert files.epw.is_file() and sorted(p.name for p in cache.iterdir()) == [ohare.file_stem]
    with pytest.raises(ValueError, match="max_age"):
        WeatherDownloader(cache_dir=cache, max_age=-1)


def test_a_missing_required_file_is_an_error(
    tmp_path: Path, ohare: WeatherStation, energyplus: EnergyPlusConfig
) -> None:
    from urllib.parse import urlsplit

    target = tmp_path / "mirror" / urlsplit(ohare.url).path.lstrip("/")
    target.parent.mkdir(parents=True)
    with zipfile.ZipFile(target, "w") as zf:
        zf.write(energyplus.weather_dir / f"{CHICAGO_STEM}.epw", "chicago.epw")
    server = _Mirror(tmp_path / "mirror")
    try:
        downloader = WeatherDownloader(cache_dir=tmp_path / "cache", base_url=server.url)
        assert downloader.download(ohare, only=[".epw"]).ddy is None
        with pytest.raises(WeatherDownloadError, match=r"no \.ddy file"):
            downloader.get_ddy(ohare)
    finally:
        server.stop()


# -- simulation results ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulationResult]:
    out = tmp_path_factory.mktemp("idfkit") / "run"
    with simulate(Shoebox().to_idf(), None, design_day=True, output_dir=out) as result:
        assert result.success, result.errors.summary()
        yield result


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulationResult]:
    model = Shoebox().to_idf().replace("Construction, Roof, Roof Membrane,", "Construction, Roof, Nope,")
    out = tmp_path_factory.mktemp("idfkit") / "failed"
    with simulate(model, None, design_day=True, output_dir=out) as result:
        assert not result.success
        yield result


@pytest.fixture(scope="module")
def readers_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulationResult]:
    """A run that writes every file the readers read: readvars CSV, HTML tables, variable dictionaries."""
    extra = "\nOutput:VariableDictionary, IDF;\nOutputControl:Table:Style, CommaAndHTML;\n"
    out = tmp_path_factory.mktemp("idfkit") / "readers"
    with simulate(Shoebox().to_idf() + extra, None, design_day=True, readvars=True, output_dir=out) as result:
        assert result.success, result.errors.summary()
        yield result


def test_output_readers_have_idfkit_names(readers_run: SimulationResult) -> None:
    import epcloud.simulation as facade

    result = readers_run
    variables, csv, html, eso, mtr = result.variables, result.csv, result.html, result.eso, result.mtr
    assert (
        variables is not None and csv is not None and html is not None and eso is not None and mtr is not None
    )
    column = eso.get_column("Zone Mean Air Temperature", "OFFICE")
    assert column is not None
    objects: dict[str, object] = {
        "OutputVariableIndex": variables,
        "OutputVariable": variables.variables[0],
        "OutputMeter": variables.meters[0],
        "CSVResult": csv,
        "CSVColumn": csv.columns[0],
        "HTMLResult": html,
        "HTMLTable": html[0],
        "ESOResult": eso,
        "ESOColumn": column,
        "ESOVariable": column.variable,
        "ESOEnvironment": eso.environments[0],
    }
    for owner, names in IDFKIT_READERS.items():
        assert isinstance(objects[owner], getattr(facade, owner)), owner  # importable as in idfkit
        assert _missing(objects[owner], names) == [], owner
    assert isinstance(mtr, facade.ESOResult) and mtr.variables[0].key_value == ""
    # the guides' snippets, with the import changed
    matches = variables.search("Temperature")
    assert matches and all("temperature" in v.name.lower() for v in matches)
    assert (
        csv.get_column_values("Zone Mean Air Temperature")
        == csv.get_column("Zone Mean Air Temperature").values
    )  # type: ignore[union-attr]
    site = html.tablebyname("Site and Source Energy")
    assert site is not None and "Total Site Energy" in site.to_dict()
    assert html.tablesbyreport("Annual Building Utility Performance Summary")[0] is html[0]


def test_timeseries_plot_takes_idfkit_keywords(readers_run: SimulationResult) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from epcloud.simulation import MatplotlibBackend, PlotlyBackend

    ts = readers_run.sql.get_timeseries("Zone Mean Air Temperature", "OFFICE")
    assert (
        ts.plot(title="My Custom Title").layout.title.text == "My Custom Title"
    )  # plotly, epcloud's default
    assert ts.plot(backend=MatplotlibBackend(), title="t").axes[0].get_title() == "t"
    assert ts.plot(backend=PlotlyBackend()).data[0].name == "OFFICE"
    assert ts.plot(backend="matplotlib").axes[0].get_ylabel() == "Zone Mean Air Temperature [C]"


def test_simulation_result_has_idfkit_names(run: SimulationResult) -> None:
    assert _missing(run, IDFKIT_RESULT) == []
    assert run.fs is None and run.async_fs is None  # a local run folder
    assert run.migration_report is None
    assert run.mtr_path == run.path("mtr") == run.run_dir / "eplusout.mtr"
    assert run.rdd_path == run.run_dir / "eplusout.rdd" and run.rdd_path.is_file()
    assert run.mdd_path == run.run_dir / "eplusout.mdd" and run.mdd_path.is_file()
    assert asyncio.run(run.async_errors()) is run.errors
    assert asyncio.run(run.async_sql()) is run.sql
    reopened = SimulationResult.from_directory(run.run_dir, output_prefix="eplus", fs=None)
    assert reopened.errors == run.errors


async def test_stored_results_name_their_store(run: SimulationResult, s3_fs: Any, async_s3_fs: Any) -> None:
    run.upload(s3_fs, "runs/one")
    stored = SimulationResult.from_directory("runs/one", fs=s3_fs)
    assert stored.fs is s3_fs and stored.async_fs is None
    remote = await SimulationResult.async_from_directory("runs/one", async_s3_fs)
    assert remote.async_fs is async_s3_fs and remote.fs is None
    report = await remote.async_errors()
    assert report.warning_count == run.errors.warning_count
    sql = await remote.async_sql()
    assert sql.list_reports() == run.sql.list_reports()
    remote.close()
    stored.close()


def test_error_report_has_idfkit_names(run: SimulationResult, failed_run: SimulationResult) -> None:
    for result in (run, failed_run):
        report = result.errors
        assert _missing(report, IDFKIT_REPORT) == []
        assert result.err_path is not None
        text = result.err_path.read_text(encoding="latin-1")
        assert report.raw_text == text
        assert type(report).from_string(text) == type(report).from_text(text) == report
        assert report.simulation_complete == report.completed_successfully == result.success
        assert report.fatal_count == len(report.fatal)
        assert report.has_severe == (report.severe_count > 0)
        assert report.error_count == report.fatal_count + report.severe_count
        assert isinstance(report.warmup_converged, bool)
        assert all(m.severity == "info" for m in report.info)
    failed = failed_run.errors
    assert failed.has_fatal and failed.has_severe and failed.error_count >= 2
    for message in failed.messages:
        assert _missing(message, IDFKIT_MESSAGE) == []
        assert message.details == tuple(message.message.splitlines()[1:])
    assert any(m.details for m in failed.messages)  # continuation lines, kept apart as idfkit does


def test_error_report_keeps_orphan_continuation_lines_as_info() -> None:
    from epcloud.simulation import ErrorReport

    text = (
        "Program Version,EnergyPlus\n"
        "   ** ~~~   ** a note that follows no message\n"
        "   ** Warning ** something\n"
        "   **   ~~~   ** more about it\n"
    )
    report = ErrorReport.from_string(text)
    assert [m.message for m in report.info] == ["a note that follows no message"]
    assert report.warnings[0].details == ("more about it",)
    assert report.raw_text == text


def test_sql_result_has_idfkit_names(run: SimulationResult) -> None:
    assert run.sql_path is not None
    with SQLResult(db_path=run.sql_path) as sql:
        assert _missing(sql, IDFKIT_SQL) == []
        name, key = "Zone Mean Air Temperature", "OFFICE"
        mine = sql.get_timeseries(name, key)
        theirs = sql.get_timeseries(variable_name=name, key_value=key)
        assert theirs == mine and len(mine) > 0
        assert _missing(theirs, IDFKIT_TIMESERIES) == []
        assert sql.get_timeseries(name, key, environment="sizing") == mine  # both design days
        with pytest.raises(EnvironmentNotFoundError, match="RunPeriodWeather"):
            sql.get_timeseries(name, key, environment="annual")
        frame = sql.to_dataframe(variable_name=name, key_value=key)
        assert frame.equals(mine.to_dataframe())
        assert sql.list_reports() == sorted(
            {r for (r,) in sql.query("SELECT ReportName FROM TabularDataWithStrings")}
        )
        assert "AnnualBuildingUtilityPerformanceSummary" in sql.list_reports()
        statement = "SELECT Name FROM ReportDataDictionary WHERE Units = ?"
        assert sql.query(statement, parameters=("C",)) == sql.query(statement, ("C",)) != []
        with pytest.raises(TypeError, match="not both"):
            sql.query(statement, ("C",), parameters=("C",))
        types = dict(sql.query("SELECT ReportDataDictionaryIndex, Type FROM ReportDataDictionary"))
        for info in sql.list_variables():
            assert info.key_value == info.key
            assert info.variable_type == types[info.index]
        assert {e.environment_type for e in sql.list_environments()} == {1}  # DesignDay
        assert sql.get_environments() == sql.list_environments()  # the name idfkit's SQL guide uses
        cell = sql.get_tabular_data(report_name="AnnualBuildingUtilityPerformanceSummary")[0]
        for field in ("report_name", "report_for", "table_name", "row_name", "column_name", "units", "value"):
            assert hasattr(cell, field)
    with pytest.raises(TypeError, match="once"):
        SQLResult(run.sql_path, db_path=run.sql_path)


# -- batches -----------------------------------------------------------------------------------------


def test_job_and_batch_have_idfkit_names(tmp_path: Path) -> None:
    model = Shoebox().to_idf()
    jobs = [
        SimulationJob(model, None, label=f"dd-{i}", design_day=True, output_dir=tmp_path / str(i))
        for i in range(2)
    ]
    job_fields = {f.name for f in fields(SimulationJob)}
    assert [name for name in IDFKIT_JOB if name not in job_fields] == []
    with simulate_batch(jobs, max_workers=2) as batch:
        assert isinstance(batch, BatchResult)
        assert _missing(batch, IDFKIT_BATCH) == []
        assert batch.total_runtime_seconds == batch.wall_seconds > 0
        assert batch.all_succeeded and len(batch.succeeded) == 2 and batch.failed == []
        assert [r.run_dir for r in batch.results if isinstance(r, SimulationResult)] == [
            tmp_path / "0",
            tmp_path / "1",
        ]


def test_job_output_suffix_and_preprocessor_timeout_as_in_idfkit(tmp_path: Path) -> None:
    """idfkit's guides pass both to `SimulationJob` and `simulate`; the outputs then carry the naming."""
    job = SimulationJob(
        Shoebox().to_idf(),
        None,
        design_day=True,
        output_dir=tmp_path / "job",
        output_suffix="C",
        preprocessor_timeout=60.0,
    )
    direct = simulate(
        Shoebox().to_idf(),
        None,
        design_day=True,
        output_dir=tmp_path / "direct",
        output_suffix="D",
        preprocessor_timeout=60.0,
    )
    with simulate_batch([job], max_workers=1) as batch:
        (result,) = batch.succeeded
        assert isinstance(result, SimulationResult)
        assert result.sql_path == tmp_path / "job" / "eplus.sql" and "eplusTable.csv" in result.files()
        assert len(result.sql.list_environments()) == 2 and result.errors.completed_successfully
    assert direct.success and "eplus-table.csv" in direct.files()
    assert direct.sql_path == tmp_path / "direct" / "eplus.sql"


# idfkit names epcloud does not offer; each must be explained in docs/idfkit.md.
IDFKIT_UNSUPPORTED = {
    "SimulationResult": ["async_fs="],
}


def test_unsupported_names_are_documented_and_really_absent(
    index: StationIndex, run: SimulationResult
) -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "idfkit.md").read_text()
    objects: dict[str, object] = {
        "StationIndex": index,
        "SimulationResult": run,
        "WeatherStation": index.get("725300"),
    }
    for owner, names in IDFKIT_UNSUPPORTED.items():
        for name in names:
            bare = name.rstrip("=")
            assert any(form in page for form in (f"`{bare}`", f"`{bare}(", f"{bare}=")), (owner, name)
            if owner in objects and not name.endswith("="):
                assert not hasattr(objects[owner], bare), (owner, name)

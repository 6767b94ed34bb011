"""The text outputs under idfkit's names: `variables` (.rdd/.mdd), `csv`, `html`, `eso`, `mtr`.

Every run is a real design-day EnergyPlus run of the shoebox; each reader is checked against the SQL
output of the same run (same series, same values, same timestamps; same tabular cells), locally, from a
store on the moto server over HTTP, and through an async store.
"""

from __future__ import annotations

import logging
import math
import pickle
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from epcloud import load_idf
from epcloud.errors import CorruptResultError, ResultNotFoundError, VariableNotFoundError
from epcloud.model import Shoebox
from epcloud.results.csvout import CSVResult, split_heading
from epcloud.results.dictionary import OutputMeter, OutputVariable, OutputVariableIndex, parse_mdd, parse_rdd
from epcloud.results.eso import ESOResult
from epcloud.results.htmltables import HTMLResult
from epcloud.simulation import TEXT_OUTPUTS, SimulationResult, UploadPolicy, simulate

ZMAT = "Zone Mean Air Temperature"
# What the shoebox lacks for these readers: the dictionaries, the HTML report, coarser series.
EXTRA_OUTPUTS = (
    "OutputControl:Table:Style, CommaAndHTML;",
    f"Output:Variable, *, {ZMAT}, Timestep;",
    f"Output:Variable, *, {ZMAT}, Daily;",
    "Output:Meter, Electricity:Facility, Monthly;",
    "Output:Meter, Electricity:Facility, RunPeriod;",
)


def _model(dictionary: str | None) -> str:
    lines = [*EXTRA_OUTPUTS, *([f"Output:VariableDictionary, {dictionary};"] if dictionary else [])]
    return Shoebox().to_idf() + "\n" + "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulationResult]:
    out = tmp_path_factory.mktemp("readers") / "run"
    with simulate(_model("IDF"), None, design_day=True, readvars=True, output_dir=out) as result:
        assert result.success, result.errors.summary()
        yield result


@pytest.fixture(scope="module")
def regular_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulationResult]:
    out = tmp_path_factory.mktemp("readers") / "regular"
    with simulate(_model("Regular"), None, design_day=True, output_dir=out) as result:
        assert result.success, result.errors.summary()
        yield result


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulationResult]:
    """The shoebox as it is: no readvars, no variable dictionary, tables as CSV only."""
    out = tmp_path_factory.mktemp("readers") / "plain"
    with simulate(Shoebox().to_idf(), None, design_day=True, output_dir=out) as result:
        assert result.success, result.errors.summary()
        yield result


# -- variables: the .rdd / .mdd index ---------------------------------------------------------------


def test_variables_list_what_the_sql_reported(run: SimulationResult) -> None:
    index = run.variables
    assert isinstance(index, OutputVariableIndex) and run.variables is index  # parsed once
    assert len(index.variables) > 100 and len(index.meters) > 10
    names = {v.name for v in index.variables}
    meters = {m.name for m in index.meters}
    for info in run.sql.list_variables():
        assert info.name in (meters if info.is_meter else names), info
    zmat = next(v for v in index.variables if v.name == ZMAT)
    assert (zmat.key, zmat.units, zmat.frequency, zmat.variable_type, zmat.time_step) == (
        "*",
        "C",
        "hourly",
        "Avg",
        "Zone",
    )
    found = index.search("zone mean air")
    assert zmat in found and all("zone mean air" in item.name.lower() for item in found)
    assert index.search("^Electricity:Facility$") == [
        next(m for m in index.meters if m.name == "Electricity:Facility")
    ]
    joules = index.filter_by_units("j")
    assert joules and all(item.units == "J" for item in joules)
    assert any(isinstance(item, OutputMeter) for item in joules) and any(
        isinstance(item, OutputVariable) for item in joules
    )
    assert len({m.name for m in index.meters}) == len(index.meters)  # cumulative variants are left out
    assert OutputVariableIndex.from_files(rdd_path=run.rdd_path, mdd_path=run.mdd_path) == index  # type: ignore[arg-type]
    assert OutputVariableIndex.from_simulation(run) == index
    with pytest.raises(ValueError, match="not a regular expression"):
        index.search("(")


def test_regular_dictionary_names_the_same_variables(
    run: SimulationResult, regular_run: SimulationResult
) -> None:
    idf_form, regular = run.variables, regular_run.variables
    assert idf_form is not None and regular is not None
    assert {(v.name, v.units, v.variable_type) for v in regular.variables} == {
        (v.name, v.units, v.variable_type) for v in idf_form.variables
    }
    assert {(m.name, m.units) for m in regular.meters} == {(m.name, m.units) for m in idf_form.meters}
    assert all(v.key == "*" and v.frequency == "hourly" for v in regular.variables)  # the form names neither


def test_add_all_to_model_requests_the_series(run: SimulationResult, tmp_path: Path) -> None:
    index = run.variables
    assert index is not None
    model = load_idf(Shoebox().to_idf())
    before = len(model["Output:Variable"])
    added = index.add_all_to_model(
        model, filter_pattern="^Zone Air Relative Humidity$", reporting_frequency="Hourly"
    )
    assert added == 1 and len(model["Output:Variable"]) == before + 1
    assert (
        index.add_all_to_model(model, filter_pattern="^Zone Air Relative Humidity$", frequency="hourly") == 0
    )
    assert index.add_all_to_model(model, filter_pattern="^Electricity:Building$", frequency="Daily") == 1
    with pytest.raises(ValueError, match="unknown reporting frequency 'Weekly'"):
        index.add_all_to_model(model, frequency="Weekly")
    with pytest.raises(TypeError, match="not both"):
        index.add_all_to_model(model, frequency="Hourly", reporting_frequency="Hourly")
    with pytest.raises(TypeError, match="load_idf"):
        index.add_all_to_model(Shoebox().to_idf())  # type: ignore[arg-type]
    with simulate(model, None, design_day=True, output_dir=tmp_path / "again") as again:
        assert again.success
        humidity = again.sql.get_timeseries("Zone Air Relative Humidity", "OFFICE")
        assert len(humidity) == 48 and all(0 < v <= 100 for v in humidity.values)
        assert len(again.sql.get_timeseries("Electricity:Building", frequency="Daily")) == 2


def test_dictionary_lines_of_neither_form_are_an_error(tmp_path: Path) -> None:
    rdd = tmp_path / "eplusout.rdd"
    rdd.write_text(
        "! Program Version\nOutput:Variable,*,Site Wind Speed,hourly; !- Zone Average [m/s]\nwhat is this\n"
    )
    with pytest.raises(CorruptResultError, match=r"eplusout.rdd, line 3: 'what is this'"):
        OutputVariableIndex.from_files(rdd)
    assert parse_rdd("") == () and parse_mdd("Zone,Meter,Gas:Facility [J]\n") == (
        OutputMeter("Gas:Facility", "hourly", "J"),
    )


def test_an_empty_dictionary_says_how_to_fill_it(
    plain_run: SimulationResult, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="epcloud.results.readers"):
        index = plain_run.variables
    assert index == OutputVariableIndex((), ())
    assert "Output:VariableDictionary" in caplog.text and "eplusout.rdd" in caplog.text


# -- csv ---------------------------------------------------------------------------------------------


def test_csv_columns_and_values_match_the_sql(run: SimulationResult) -> None:
    table = run.csv
    assert isinstance(table, CSVResult) and run.csv is table and run.eso is not None
    assert len(table) == 2 * 24 * 4  # two design days of 15-minute rows
    parsed = [(c.key_value, c.variable_name, c.units, c.frequency) for c in table.columns]
    declared = [
        (v.key_value, v.variable_name, v.units, v.frequency.replace("Timestep", "TimeStep"))
        for v in run.eso.variables
    ]
    assert parsed == declared  # readvars writes the ESO's dictionary, in its order
    hourly = table.get_column(ZMAT, "office")
    assert hourly is not None and hourly.frequency == "Hourly"
    sql = run.sql.get_timeseries(ZMAT, "OFFICE", frequency="Hourly")
    assert [v for v in hourly.values if not math.isnan(v)] == list(sql.values)
    assert table.get_column_values(ZMAT) == hourly.values
    meter = table.get_column("Electricity:Facility")
    assert meter is not None and meter.is_meter and meter.key_value == ""
    assert [v for v in meter.values if not math.isnan(v)] == list(
        run.sql.get_timeseries("Electricity:Facility", frequency="Hourly").values
    )
    assert (
        table.get_column("No Such Variable") is None and table.get_column_values("No Such Variable") is None
    )
    frame = table.to_dataframe()
    assert frame.shape == (len(table), len(table.columns)) and frame.index[0] == table.timestamps[0]


def test_csv_headings_tell_meters_from_variables() -> None:
    assert split_heading("OFFICE:Zone Mean Air Temperature [C](Hourly)") == ("OFFICE", ZMAT, "C", "Hourly")
    assert split_heading("Electricity:Facility [J](Hourly)") == ("", "Electricity:Facility", "J", "Hourly")
    assert split_heading("Electricity:Zone:ZONE ONE [J](Daily)")[:2] == ("", "Electricity:Zone:ZONE ONE")
    assert split_heading("SURF:1:Surface Inside Face Temperature [C](Hourly)")[:2] == (
        "SURF:1",
        "Surface Inside Face Temperature",
    )


def test_a_cell_that_is_not_a_number_names_its_place(run: SimulationResult, tmp_path: Path) -> None:
    assert run.csv_path is not None
    lines = run.csv_path.read_text().splitlines()
    cells = lines[3].split(",")
    cells[2] = "oops"  # the third column of the file's fourth line
    lines[3] = ",".join(cells)
    broken = tmp_path / "eplusout.csv"
    broken.write_text("\n".join(lines))
    heading = lines[0].split(",")[2].strip()
    expected = re.escape(f"eplusout.csv, line 4, column '{heading}': 'oops' is not a number")
    with pytest.raises(CorruptResultError, match=expected):
        CSVResult.from_file(broken)


# -- html --------------------------------------------------------------------------------------------


def test_html_cells_equal_the_sql_tabular_cells(run: SimulationResult) -> None:
    html = run.html
    assert isinstance(html, HTMLResult) and run.html is html and len(html) > 100
    tables: dict[tuple[str, str, str], list[Any]] = {}
    for table in html:
        key = (table.report_name.replace(" ", "").lower(), table.for_string.lower(), table.title.lower())
        tables.setdefault(key, []).append(table)
    cells = run.sql.get_tabular_data()
    same = 0
    for cell in cells:
        column = cell.column_name + (f" [{cell.units}]" if cell.units else "")
        for table in tables.get(
            (cell.report_name.lower(), cell.report_for.lower(), cell.table_name.lower()), []
        ):
            row = table.to_dict().get(cell.row_name)
            if row is not None and column in row:
                assert row[column] == cell.value, (cell, row[column])
                same += 1
                break
    assert same > 0.8 * len(cells)  # the rest: tables whose row names repeat (one row per subcategory)


def test_html_lookups(run: SimulationResult) -> None:
    html = run.html
    assert html is not None
    area = html.tablebyname("building area")
    assert area is not None and area.report_name == "Annual Building Utility Performance Summary"
    assert area.for_string == "Entire Facility" and area.header == ["", "Area [m2]"]
    sql_area = run.sql.get_tabular_value(
        "AnnualBuildingUtilityPerformanceSummary", "Building Area", "Total Building Area", "Area"
    )
    assert (
        float(area.cell("Total Building Area", "Area [m2]"))
        == sql_area
        == pytest.approx(Shoebox().width * Shoebox().depth)
    )
    with pytest.raises(KeyError, match="Area \\[m2\\]"):
        area.cell("Total Building Area", "Area")
    abups = html.tablesbyreport("Annual Building Utility Performance Summary")
    assert abups and abups == html.tablesbyreport("AnnualBuildingUtilityPerformanceSummary")
    assert html.tablebyindex(0) is html[0] and html.tablebyindex(len(html)) is None
    title, rows = html.titletable()[0]
    assert title == html[0].title and rows == [html[0].header, *html[0].rows]
    assert html.tablebyname("no such table") is None


# -- eso / mtr ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["eso", "mtr"])
def test_eso_and_mtr_series_equal_the_sql(run: SimulationResult, kind: str) -> None:
    parsed = getattr(run, kind)
    assert isinstance(parsed, ESOResult) and getattr(run, kind) is parsed
    environments = run.sql.list_environments()
    assert [e.title for e in parsed.environments] == [e.name for e in environments]
    assert len(parsed.columns) == len(parsed.variables) * len(environments)
    for var in parsed.variables:
        for env, sql_env in zip(parsed.environments, environments, strict=True):
            column = parsed.get_column(var.variable_name, var.key_value or None, var.frequency, env.index)
            assert column is not None and column.variable is var
            frequency = "Zone Timestep" if var.frequency == "Timestep" else var.frequency
            series = run.sql.get_timeseries(
                var.variable_name, var.key_value or "*", frequency, environment=sql_env
            )
            assert column.values == series.values, (var, env)
            assert column.timestamps == series.timestamps, (var, env)
    if kind == "mtr":
        assert all(v.key_value == "" for v in parsed.variables)  # meters only


def test_eso_lookups(run: SimulationResult) -> None:
    eso = run.eso
    assert eso is not None and eso.program_version.startswith("Program Version,EnergyPlus")
    last = eso.get_column(ZMAT, "OFFICE", "Hourly")
    assert last is not None and last.environment_index == len(eso.environments) - 1  # the last one by default
    frame = eso.to_dataframe(ZMAT, "office", "hourly", environment_index=0)
    assert list(frame[ZMAT]) == list(eso.get_column(ZMAT, "OFFICE", "Hourly", 0).values)  # type: ignore[union-attr]
    assert eso.get_variable(ZMAT, frequency="Daily").num_values == 7  # type: ignore[union-attr]
    assert eso.get_column("No Such Variable") is None
    with pytest.raises(VariableNotFoundError, match="no values of 'No Such Variable'"):
        eso.to_dataframe("No Such Variable")
    series = last.to_timeseries()
    assert series.values == last.values and series.units == "C"


def test_a_result_with_parsed_outputs_still_pickles(run: SimulationResult) -> None:
    reopened = SimulationResult.from_directory(run.run_dir)  # no SQL opened: that one holds a connection
    assert reopened.eso is not None and reopened.eso.columns and reopened.csv is not None and reopened.html
    copy = pickle.loads(pickle.dumps(reopened))
    assert copy.eso is not None and copy.eso.columns == reopened.eso.columns
    assert copy.html == reopened.html and copy.variables == reopened.variables and copy.mtr is not None


def test_a_broken_eso_names_the_line(run: SimulationResult, tmp_path: Path) -> None:
    assert run.eso_path is not None
    text = run.eso_path.read_text(encoding="latin-1")
    with pytest.raises(CorruptResultError, match="End of Data Dictionary"):
        ESOResult.from_string(text.replace("End of Data Dictionary", ""), "cut.eso")
    head, records = text.split("End of Data Dictionary\n")
    lines = records.splitlines()
    lines[5] = lines[5].split(",")[0] + ",not-a-number"
    broken = head + "End of Data Dictionary\n" + "\n".join(lines)
    number = head.count("\n") + 1 + 6  # the dictionary, its end line, then the sixth record line
    with pytest.raises(CorruptResultError, match=rf"bad.eso, line {number}: cannot read '\d+,not-a-number'"):
        ESOResult.from_string(broken, "bad.eso", eager=True)


# -- absent files ------------------------------------------------------------------------------------


def test_absent_outputs_are_none(plain_run: SimulationResult) -> None:
    assert plain_run.csv is None and plain_run.csv_path is None  # no readvars
    assert plain_run.html is None and plain_run.html_path is None  # the shoebox's tables are CSV only
    assert plain_run.eso is not None and plain_run.mtr is not None


# -- stored results ----------------------------------------------------------------------------------


def _same_readers(stored: SimulationResult, local: SimulationResult) -> None:
    assert stored.variables == local.variables
    assert stored.csv == local.csv
    assert stored.html == local.html
    for kind in ("eso", "mtr"):
        mine, theirs = getattr(stored, kind), getattr(local, kind)
        assert mine.variables == theirs.variables and mine.columns == theirs.columns


def test_stored_results_read_the_same(
    run: SimulationResult, s3_fs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    run.upload(s3_fs, "runs/all", upload="all")
    with SimulationResult.from_directory("runs/all", fs=s3_fs) as stored:
        _same_readers(stored, run)
    packed = UploadPolicy(include=("*",), gzip=TEXT_OUTPUTS, gzip_min_bytes=0)  # stored as NAME.gz
    simulate(
        _model("IDF"), None, design_day=True, readvars=True, fs=s3_fs, output_dir="runs/gz", upload=packed
    )
    with SimulationResult.from_directory("runs/gz", fs=s3_fs) as stored:
        assert {"eplusout.eso.gz", "eplusout.csv.gz", "eplustbl.htm.gz"} <= set(stored.files())
        assert stored.variables is not None and stored.csv is not None and stored.html is not None
        assert stored.variables.variables == run.variables.variables  # type: ignore[union-attr]
        assert [c.header for c in stored.csv.columns] == [c.header for c in run.csv.columns]  # type: ignore[union-attr]
        assert stored.html.tablebyname("Building Area") == run.html.tablebyname("Building Area")  # type: ignore[union-attr]
        assert stored.eso.columns == run.eso.columns  # type: ignore[union-attr]
    run.upload(s3_fs, "runs/default")
    with (
        SimulationResult.from_directory("runs/default", fs=s3_fs) as stored,
        caplog.at_level(logging.WARNING),
    ):
        assert stored.csv == run.csv and stored.html == run.html  # in the default upload set
        assert stored.eso is None and stored.variables is None  # left out of it
    assert "eplusout.eso but it was not uploaded" in caplog.text and "upload='all'" in caplog.text


async def test_async_forms_fetch_then_parse(run: SimulationResult, s3_fs: Any, async_s3_fs: Any) -> None:
    run.upload(s3_fs, "runs/async", upload="all")
    remote = await SimulationResult.async_from_directory("runs/async", async_s3_fs)
    with pytest.raises(RuntimeError, match=r"not fetched yet: .*async_eso\(\)"):
        remote.eso  # noqa: B018
    assert await remote.async_variables() == run.variables
    assert await remote.async_csv() == run.csv
    assert await remote.async_html() == run.html
    eso, mtr = await remote.async_eso(), await remote.async_mtr()
    assert eso is not None and mtr is not None and run.eso is not None and run.mtr is not None
    assert eso.columns == run.eso.columns and mtr.columns == run.mtr.columns
    assert remote.eso is eso  # fetched and parsed once
    remote.close()


def test_a_missing_run_folder_is_still_an_error(tmp_path: Path) -> None:
    with pytest.raises(ResultNotFoundError):
        SimulationResult.from_directory(tmp_path / "nothing")

"""ErrorReport: real .err files from successful and fatal runs, and hand-written edge cases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from epcloud.errors import ResultNotFoundError
from epcloud.results.errfile import ErrorMessage, ErrorReport

HEADER = "Program Version,EnergyPlus, Version 25.2.0-cf7368216c, YMD=2026.01.01 00:00,\n"
PHASES = (
    "   ************* EnergyPlus Warmup Error Summary. During Warmup: 1 Warning; 0 Severe Errors.\n"
    "   ************* EnergyPlus Sizing Error Summary. During Sizing: 2 Warning; 1 Severe Errors.\n"
)


# -- real runs -------------------------------------------------------------------------------------


def test_successful_run(five_zone_run: Path) -> None:
    text = (five_zone_run / "eplusout.err").read_text()
    report = ErrorReport.from_file(five_zone_run / "eplusout.err")
    closing = re.search(r"Completed Successfully-- (\d+) Warning; (\d+) Severe", text)
    assert closing is not None
    assert report.completed and report.completed_successfully and not report.has_fatal
    assert (report.warning_count, report.severe_count) == (int(closing[1]), int(closing[2]))
    assert report.fatal == () and report.severe == ()
    assert (report.warmup_warning_count, report.warmup_severe_count) == (0, 0)
    assert (report.sizing_warning_count, report.sizing_severe_count) == (0, 0)
    assert report.elapsed_seconds is not None and report.elapsed_seconds > 0
    assert report.summary().startswith("EnergyPlus completed successfully")
    assert ErrorReport.from_text(text) == report


def test_fatal_run(fatal_run: Path) -> None:
    path = fatal_run / "eplusout.err"
    lines = path.read_text().splitlines()
    report = ErrorReport.from_file(path)

    assert report.completed and not report.completed_successfully and report.has_fatal
    assert report.severe_count == 2 and len(report.severe) == 2
    assert report.warning_count == len(report.warnings)
    (fatal,) = report.fatal
    assert fatal.message.startswith("GetSurfaceData: Errors discovered")
    assert "Reference severe error count=2" in fatal.message  # the "..." lines that follow a fatal
    first_severe = report.severe[0]
    assert first_severe.message.splitlines() == [
        "GetConstructData: Construction = NO_SUCH_MATERIAL",
        "Name = NO_SUCH_MATERIAL, item not found.",
    ]
    for message in report.messages:
        assert message.message.splitlines()[0] in lines[message.line - 1]

    summary = report.summary()
    assert summary.splitlines()[0].startswith("EnergyPlus terminated with a fatal error: ")
    assert "2 severe error(s)" in summary
    assert "GetSurfaceData" in summary and "NO_SUCH_MATERIAL" in summary
    assert str(report) == summary


# -- constructors ----------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ResultNotFoundError, match=r"eplusout\.err") as info:
        ErrorReport.from_file(tmp_path / "eplusout.err")
    assert isinstance(info.value, FileNotFoundError)


def test_empty_report() -> None:
    report = ErrorReport.empty()
    assert report.messages == () and report.warning_count == 0 and report.severe_count == 0
    assert not report.completed and not report.completed_successfully and not report.has_fatal
    assert "did not finish" in report.summary()
    assert ErrorReport.from_text("") == report


# -- hand-written edge cases -----------------------------------------------------------------------


def test_messages_continuations_and_counts() -> None:
    text = HEADER + (
        "   ** Warning ** First warning\n"
        "   **   ~~~   ** ..first detail\n"
        "   **   ~~~   ** ..second detail\n"
        "   ** Severe  ** A severe error\n"
        "   ** Warning ** Second warning\n"
        "   ************* Beginning Simulation\n"
        + PHASES
        + "   ************* EnergyPlus Completed Successfully-- 7 Warning; 1 Severe Errors; "
        "Elapsed Time=01hr 02min  3.50sec\n"
    )
    report = ErrorReport.from_text(text)
    assert report.messages == (
        ErrorMessage("warning", "First warning\n..first detail\n..second detail", 2),
        ErrorMessage("severe", "A severe error", 5),
        ErrorMessage("warning", "Second warning", 6),
    )
    # The closing line's totals win over what the file shows (EnergyPlus may suppress repeats).
    assert (report.warning_count, report.severe_count) == (7, 1)
    assert (report.warmup_warning_count, report.warmup_severe_count) == (1, 0)
    assert (report.sizing_warning_count, report.sizing_severe_count) == (2, 1)
    assert report.elapsed_seconds == pytest.approx(3723.5)
    assert report.completed_successfully and not report.has_fatal


def test_recurring_error_summary() -> None:
    text = HEADER + (
        "   ** Warning ** CalcDoe2DXCoil: low condenser temperature\n"
        "   ************* Simulation Error Summary *************\n"
        "   *************\n"
        "   ************* ===== Recurring Error Summary =====\n"
        "   ************* The following recurring error messages occurred.\n"
        "   *************\n"
        "   *************  ** Warning ** CalcDoe2DXCoil: low condenser temperature continues...\n"
        "   *************  **   ~~~   **   This error occurred 135 total times;\n"
        "   *************  **   ~~~   **   during Warmup 0 times;\n"
        "   *************  **   ~~~   **   during Sizing 0 times.\n"
        "   *************\n"
        "   ************* EnergyPlus Completed Successfully-- 1 Warning; 0 Severe Errors; "
        "Elapsed Time=00hr 00min  1.00sec\n"
    )
    report = ErrorReport.from_text(text)
    first, recurring = report.warnings
    assert not first.recurring
    assert recurring.recurring and recurring.line == 8
    assert recurring.message.splitlines()[1] == "This error occurred 135 total times;"
    assert report.warning_count == 1


def test_no_closing_line_counts_messages() -> None:
    """A run killed mid-way leaves no closing line: totals are counted, and the run did not complete."""
    text = HEADER + (
        "   ** Warning ** one\n"
        "   ** Warning ** two\n"
        "   ** Severe  ** three\n"
        "   ************* Beginning Simulation\n"
    )
    report = ErrorReport.from_text(text)
    assert (report.warning_count, report.severe_count) == (2, 1)
    assert not report.completed and not report.completed_successfully and not report.has_fatal
    assert report.summary().startswith("EnergyPlus did not finish")


def test_fatal_without_closing_line() -> None:
    report = ErrorReport.from_text(HEADER + "   **  Fatal  ** Out of memory\n")
    assert report.has_fatal and not report.completed
    assert report.summary().startswith("EnergyPlus terminated with a fatal error")
    assert "Fatal (line 2): Out of memory" in report.summary()


def test_closing_line_without_counts() -> None:
    text = HEADER + "   ** Warning ** w\n   ************* EnergyPlus Completed Successfully.\n"
    report = ErrorReport.from_text(text)
    assert report.completed_successfully and report.warning_count == 1 and report.elapsed_seconds is None


def test_odd_lines(tmp_path: Path) -> None:
    """Blank lines, stray text, an orphan continuation, CRLF endings and Latin-1 bytes are all tolerated."""
    raw = (
        b"   **   ~~~   ** orphan continuation\r\n"
        b"random text that is no message\r\n"
        b"   ** Warning ** Temperature 20\xb0C is odd\r\n"
        b"   **   ~~~   ** detail\r\n"
        b"\r\n"
        b"   **   ~~~   ** after a blank line: orphan again\r\n"
        b"   ** sEVERE ** odd case\r\n"
        b"   ************* EnergyPlus Terminated--Fatal Error Detected. 1 Warning; 1 Severe Errors; "
        b"Elapsed Time=00hr 00min  0.19sec\r\n"
    )
    path = tmp_path / "eplusout.err"
    path.write_bytes(raw)
    report = ErrorReport.from_file(path)
    assert report.messages == (
        ErrorMessage("warning", "Temperature 20°C is odd\ndetail", 3),
        ErrorMessage("severe", "odd case", 7),
    )
    assert report.completed and not report.completed_successfully and report.has_fatal
    assert report.elapsed_seconds == pytest.approx(0.19)


def test_large_file_streams(tmp_path: Path) -> None:
    path = tmp_path / "eplusout.err"
    count = 50_000
    with path.open("w") as handle:
        handle.write(HEADER)
        for i in range(count):
            handle.write(f"   ** Warning ** warning number {i}\n   **   ~~~   ** detail {i}\n")
        closing = f"EnergyPlus Completed Successfully-- {count + 1} Warning; 0 Severe Errors"
        handle.write(f"   ************* {closing}\n")
    report = ErrorReport.from_file(path)
    assert len(report.warnings) == count and report.warning_count == count + 1  # from the closing line
    assert report.warnings[-1] == ErrorMessage(
        "warning", f"warning number {count - 1}\ndetail {count - 1}", 2 * count
    )

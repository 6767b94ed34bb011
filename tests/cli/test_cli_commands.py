"""Bundled weather by name, the example model, shell completion, help texts: what a new user tries first."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from cli_helpers import one_line_error, run_cli

from epcloud.engine import find_energyplus
from epcloud.model import Shoebox, load_idf


def test_weather_bundled_lists_the_engine_files(tmp_path: Path) -> None:
    ran = run_cli("weather", "bundled", "--json", cwd=tmp_path)
    assert ran.code == 0, ran.err
    files = json.loads(ran.out)
    on_disk = sorted(p.name for p in find_energyplus().weather_dir.glob("*.epw"))
    assert [f["file"] for f in files] == on_disk and len(on_disk) >= 1
    chicago = next(f for f in files if "Chicago" in f["file"])
    assert chicago["wmo"] == "725300" and chicago["station"] == "Chicago Ohare Intl Ap, IL, USA"
    table = run_cli("weather", "bundled", cwd=tmp_path)
    assert "Chicago Ohare Intl Ap" in table.out and "725300" in table.out


def test_w_takes_a_station_term_and_says_which_file(shoebox: Path, tmp_path: Path) -> None:
    ran = run_cli("run", str(shoebox), "-w", "tampa", "--design-day", "-o", "r", "--json", cwd=tmp_path)
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["weather_name"] == "USA_FL_Tampa.Intl.AP.722110_TMY3.epw"
    said = run_cli("run", str(shoebox), "-w", "722110", "--design-day", "-o", "r2", cwd=tmp_path)
    assert said.code == 0
    assert "weather: USA_FL_Tampa.Intl.AP.722110_TMY3.epw (Tampa International Ap, FL, USA" in said.err
    by_name = run_cli(
        "run",
        str(shoebox),
        "-w",
        "USA_FL_Tampa.Intl.AP.722110_TMY3",
        "--design-day",
        "-o",
        "r3",
        cwd=tmp_path,
    )
    assert by_name.code == 0 and "USA_FL_Tampa" in by_name.err


def test_example_shoebox_writes_a_model_with_the_options(tmp_path: Path) -> None:
    ran = run_cli("example", "shoebox", "-o", "box.idf", "--wall-r", "3.5", "--width", "12", cwd=tmp_path)
    assert ran.code == 0, ran.err
    assert "wrote box.idf" in ran.out and "epcloud run box.idf -w chicago" in ran.out
    text = (tmp_path / "box.idf").read_text()
    assert text == Shoebox(wall_r=3.5, width=12.0).to_idf() != Shoebox().to_idf()
    assert len(load_idf(tmp_path / "box.idf")["Zone"]) == 1
    # never replaces a file silently
    again = run_cli("example", "shoebox", "-o", "box.idf", cwd=tmp_path)
    assert "box.idf already exists" in one_line_error(again) and "--force" in one_line_error(again)
    assert (tmp_path / "box.idf").read_text() == text
    assert run_cli("example", "shoebox", "-o", "box.idf", "--force", cwd=tmp_path).code == 0
    assert (tmp_path / "box.idf").read_text() == Shoebox().to_idf()


def test_readme_first_simulation_from_the_shell(tmp_path: Path) -> None:
    """The README's two commands, as written there."""
    assert run_cli("example", "shoebox", "-o", "shoebox.idf", cwd=tmp_path).code == 0
    ran = run_cli("run", "shoebox.idf", "-w", "chicago", "--annual", cwd=tmp_path)
    assert ran.code == 0, ran.err
    assert "kWh/m²" in ran.out and (tmp_path / "run-shoebox" / "eplusout.sql").is_file()


def test_shell_completion_scripts(tmp_path: Path) -> None:
    bash = run_cli("--print-completion", "bash", cwd=tmp_path)
    assert bash.code == 0 and "complete" in bash.out
    for command in ("run", "batch", "weather", "example", "collect"):
        assert command in bash.out
    syntax = subprocess.run(["bash", "-n"], input=bash.out, text=True, capture_output=True)
    assert syntax.returncode == 0, syntax.stderr
    zsh = run_cli("--print-completion", "zsh", cwd=tmp_path)
    assert zsh.code == 0 and "#compdef epcloud" in zsh.out


def test_help_has_descriptions(tmp_path: Path) -> None:
    for command, says in (
        ("status", "Count a study's jobs"),
        ("collect", "jobs.parquet"),
        ("rerun", "--failed"),
        ("weather", "bundled"),
    ):
        ran = run_cli(command, "--help", cwd=tmp_path)
        assert ran.code == 0 and says in ran.out, ran.out
    assert "(default: epcloud-demo)" in run_cli("demo", "--help", cwd=tmp_path).out
    assert "Exit codes: 0 done, 1 simulations failed, 2 bad input" in run_cli("--help", cwd=tmp_path).out


def test_weather_search_says_what_matched(tmp_path: Path) -> None:
    ran = run_cli("weather", "search", "chicago", "--limit", "2", cwd=tmp_path)
    assert ran.code == 0 and "Matched on" in ran.out and "Match " not in ran.out.replace("Matched", "")

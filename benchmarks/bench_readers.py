"""The text-output readers on an annual run: parsing the .eso, .mtr, readvars .csv, .html and .rdd/.mdd,
against reading the same series from the SQL output.

Run by hand:  .venv/bin/python benchmarks/bench_readers.py [--repeat 3]

One annual run of the shoebox (Chicago TMY3) with timestep zone and surface temperatures, readvars and the
HTML tables. Each reader parses a fresh copy of its file ``--repeat`` times; the best and median wall times
are printed with the file's size, and one timestep series is checked equal between the ESO and the SQL.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from epcloud.engine import default_energyplus
from epcloud.model import Shoebox
from epcloud.results.csvout import CSVResult
from epcloud.results.dictionary import OutputVariableIndex
from epcloud.results.eso import ESOResult
from epcloud.results.htmltables import HTMLResult
from epcloud.results.sql import SQLResult
from epcloud.simulation import simulate

OUTPUTS = (
    "Output:VariableDictionary, IDF;",
    "OutputControl:Table:Style, CommaAndHTML;",
    "Output:Variable, *, Zone Mean Air Temperature, Timestep;",
    "Output:Variable, *, Surface Inside Face Temperature, Timestep;",
)
SURFACE = "Surface Inside Face Temperature"


def _timed(repeat: int, work: Callable[[], Any]) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    epw = default_energyplus().weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    with tempfile.TemporaryDirectory() as tmp:
        model = Shoebox().to_idf() + "\n" + "\n".join(OUTPUTS) + "\n"
        start = time.perf_counter()
        result = simulate(model, epw, annual=True, readvars=True, output_dir=Path(tmp) / "run")
        print(f"annual run: {time.perf_counter() - start:.1f} s, success={result.success}")
        paths = {kind: result.path(kind) for kind in ("eso", "mtr", "csv", "html", "rdd", "mdd", "sql")}
        readers: dict[str, Callable[[], Any]] = {
            "eso (every column)": lambda: ESOResult.from_file(paths["eso"], eager=True),  # type: ignore[arg-type]
            "mtr (every column)": lambda: ESOResult.from_file(paths["mtr"], eager=True),  # type: ignore[arg-type]
            "csv": lambda: CSVResult.from_file(paths["csv"]),  # type: ignore[arg-type]
            "html": lambda: HTMLResult.from_file(paths["html"]),  # type: ignore[arg-type]
            "rdd + mdd": lambda: OutputVariableIndex.from_files(paths["rdd"], paths["mdd"]),  # type: ignore[arg-type]
            "sql: one variable, every key": lambda: SQLResult(paths["sql"]).get_timeseries(SURFACE, "*"),  # type: ignore[arg-type]
        }
        for name, work in readers.items():
            files = {"eso": "eso", "mtr": "mtr", "csv": "csv", "htm": "html", "rdd": "rdd", "sql": "sql"}
            path = paths[next(kind for prefix, kind in files.items() if name.startswith(prefix))]
            size = path.stat().st_size / 1e6 if path is not None else 0.0
            best, median = _timed(args.repeat, work)
            print(f"{name:32} {size:7.2f} MB  best {best:6.3f} s  median {median:6.3f} s")
        eso = ESOResult.from_file(paths["eso"])  # type: ignore[arg-type]
        sql = SQLResult(paths["sql"])  # type: ignore[arg-type]
        key = sql.get_timeseries(SURFACE, "*").keys[0]
        column = eso.get_column(SURFACE, key, "Timestep")
        same = column is not None and column.values == sql.get_timeseries(SURFACE, key).values
        print(f"ESO and SQL values of {SURFACE} ({key}) equal: {same}")
        sql.close()
        result.close()


if __name__ == "__main__":
    main()

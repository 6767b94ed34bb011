"""Times model reading and writing; run by hand: `.venv/bin/python benchmarks/bench_load_idf.py [model.idf]`.

Prints the median and best of N runs for: schema load cold (full JSON, and from the compact cache),
load_idf, to_idf, to_epjson and load_epjson. Warm numbers are taken with the schema already loaded.
The `idfkit` rows time idfkit 1.1.1 in the same run: its load_idf, its write_idf (which returns the IDF
text as a string, as to_idf does; nothing is written to disk) and its copy, in its own venv
(benchmarks/.venv-idfkit, never the project's), schema warm, the same number of runs. `--no-idfkit`
leaves them out.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from epcloud.engine import default_energyplus
from epcloud.model import Schema, get_schema, load_epjson, load_idf

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EPCLOUD_SHARED_DIR", REPO.parent / "shared"))
DEFAULT_MODEL = SHARED / "models" / "RefBldgMediumOfficeNew2004_Chicago.idf"


# Run with idfkit's python, with `timings_ms` below pasted in first: one JSON line of idfkit's timings.
_IDFKIT_RUNNER = """
doc = idfkit.load_idf(model)  # warm the schema outside the timing, as for epcloud
print(json.dumps({
    "version": idfkit.__version__,
    "objects": len(doc),
    "load_idf": timings_ms(lambda: idfkit.load_idf(model), runs),
    "write_idf": timings_ms(lambda: idfkit.write_idf(doc), runs),
    "write_idf_nocomment": timings_ms(lambda: idfkit.write_idf(doc, output_type="nocomment"), runs),
    "copy": timings_ms(doc.copy, runs),
}))
"""
_IDFKIT_PRELUDE = """from __future__ import annotations
import json, statistics, sys, time
import idfkit
model, runs = sys.argv[1], int(sys.argv[2])
"""


def timings_ms(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """The median and the best wall time of `runs` calls, in milliseconds (one untimed call first)."""
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, min(times) * 1000


def idfkit_timings(model: Path, runs: int) -> dict[str, Any]:
    """idfkit 1.1.1's timings of `model` (see _IDFKIT_RUNNER), measured with the python of its own venv."""
    from bench_simulate import ensure_idfkit

    script = _IDFKIT_PRELUDE + inspect.getsource(timings_ms) + _IDFKIT_RUNNER
    done = subprocess.run(
        [str(ensure_idfkit()), "-c", script, str(model), str(runs)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("-n", "--runs", type=int, default=50, help="timed runs per measure (default 50)")
    parser.add_argument("--no-idfkit", action="store_true", help="leave out the idfkit 1.1.1 rows")
    args = parser.parse_args()

    schema_path = default_energyplus().schema_path
    cold_runs = max(3, args.runs // 10)
    with tempfile.TemporaryDirectory() as cache_dir:
        Schema.from_file(schema_path, cache_dir=cache_dir)
        results = {
            "schema load cold, full JSON": timings_ms(
                lambda: Schema.from_file(schema_path, cache_dir=None), cold_runs
            ),
            "schema load cold, compact cache": timings_ms(
                lambda: Schema.from_file(schema_path, cache_dir=cache_dir), cold_runs
            ),
        }
    schema = get_schema()
    doc = load_idf(args.model, schema=schema)
    epjson_text = doc.to_epjson_text()
    results |= {
        "load_idf": timings_ms(lambda: load_idf(args.model, schema=schema), args.runs),
        "to_idf": timings_ms(doc.to_idf, args.runs),
        "to_idf(comments=False)": timings_ms(lambda: doc.to_idf(comments=False), args.runs),
        "to_epjson": timings_ms(doc.to_epjson, args.runs),
        "to_epjson_text": timings_ms(doc.to_epjson_text, args.runs),
        "load_epjson (text)": timings_ms(lambda: load_epjson(epjson_text, schema=schema), args.runs),
        "copy": timings_ms(doc.copy, args.runs),
    }
    if not args.no_idfkit:
        idfkit = idfkit_timings(args.model, args.runs)
        rows = {
            "load_idf": ("idfkit load_idf", "load_idf"),
            "to_idf": ("idfkit write_idf (to a string)", "write_idf"),
            "to_idf(comments=False)": ("idfkit write_idf(nocomment)", "write_idf_nocomment"),
            "copy": ("idfkit copy", "copy"),
        }
        merged: dict[str, tuple[float, float]] = {}
        for label, timing in results.items():  # each idfkit row right below the epcloud row it compares with
            merged[label] = timing
            if label in rows:
                name, key = rows[label]
                merged[name] = (idfkit[key][0], idfkit[key][1])
        results = merged
    size_kb = args.model.stat().st_size / 1000
    print(
        f"{args.model.name}: {size_kb:.0f} kB, {len(doc)} objects; median of {args.runs} runs "
        f"({cold_runs} for schema loads)"
    )
    if not args.no_idfkit:
        print(
            f"idfkit {idfkit['version']} rows: its own venv, schema warm, {idfkit['objects']} objects; "
            "write_idf returns a string (no file)"
        )
    print(f"  {'':<34} {'median':>8}    {'best':>8}")
    for label, (median, best) in results.items():
        print(f"  {label:<34} {median:8.2f} ms {best:8.2f} ms")


if __name__ == "__main__":
    main()

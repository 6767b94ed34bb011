"""Times model reading and writing; run by hand: `.venv/bin/python benchmarks/bench_load_idf.py [model.idf]`.

Prints the median of N runs for: schema load cold (full JSON, and from the compact cache), load_idf,
to_idf, to_epjson and load_epjson. Warm numbers are taken with the schema already loaded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from epcloud.engine import default_energyplus
from epcloud.model import Schema, get_schema, load_epjson, load_idf

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("EPCLOUD_SHARED_DIR", REPO.parent / "shared"))
DEFAULT_MODEL = SHARED / "models" / "RefBldgMediumOfficeNew2004_Chicago.idf"


def timings_ms(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """The median and the best wall time of `runs` calls, in milliseconds (one untimed call first)."""
    action()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("-n", "--runs", type=int, default=50, help="timed runs per measure (default 50)")
    args = parser.parse_args()

    schema_path = default_energyplus().schema_path
    cold_runs = max(3, args.runs // 10)
    with tempfile.TemporaryDirectory() as cache_dir:
        Schema.from_file(schema_path, cache_dir=cache_dir)
        results = {
            "schema load cold, full JSON": timings_ms(
                lambda: Schema.from_file(schema_path, cache_dir=None), cold_runs),
            "schema load cold, compact cache": timings_ms(
                lambda: Schema.from_file(schema_path, cache_dir=cache_dir), cold_runs),
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
    size_kb = args.model.stat().st_size / 1000
    print(f"{args.model.name}: {size_kb:.0f} kB, {len(doc)} objects; median of {args.runs} runs "
          f"({cold_runs} for schema loads)")
    print(f"  {'':<34} {'median':>8}    {'best':>8}")
    for label, (median, best) in results.items():
        print(f"  {label:<34} {median:8.2f} ms {best:8.2f} ms")


if __name__ == "__main__":
    main()

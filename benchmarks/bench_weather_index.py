"""How fast the bundled weather-station index loads and answers: python benchmarks/bench_weather_index.py"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from importlib import resources

from epcloud.weather import StationIndex


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds per call, ``repeat`` times."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main(repeat: int = 20) -> int:
    size = len(resources.files("epcloud").joinpath("data/stations.bin.gz").read_bytes())
    index = StationIndex.load()
    print(f"bundled index: {size / 1e6:.2f} MB, {len(index)} stations")
    first_search = timed(lambda: StationIndex.load().search("chicago"), 5)  # load + search keys + query
    rows = {
        "load": timed(StationIndex.load, repeat),
        "load + first search": first_search,
        "search 'chicago' (warm)": timed(lambda: index.search("chicago"), repeat),
        "search '725300' (warm)": timed(lambda: index.search("725300"), repeat),
        "nearest (warm)": timed(lambda: index.nearest(41.98, -87.9), repeat),
        "get('725300')": timed(lambda: index.get("725300"), repeat),
    }
    width = max(map(len, rows))
    print(f"{'':{width}}  {'median ms':>10}  {'min ms':>8}")
    for name, times in rows.items():
        print(f"{name:{width}}  {statistics.median(times):10.2f}  {min(times):8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

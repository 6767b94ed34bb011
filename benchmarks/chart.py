"""Draw benchmarks/results.svg from the figures in benchmarks/RESULTS.md: epcloud beside idfkit 1.1.1.

    .venv/bin/python benchmarks/chart.py        (run_all.py calls it after writing RESULTS.md)

Each bar is a run time against the raw engine (single runs, S3, batches; 1.0 = no overhead, lower is
better). Collect speed is a ratio of another scale (×14 at 1,000 jobs) and stays in the text.
"""

from __future__ import annotations

import json
from pathlib import Path

from epcloud.report.charts import bar_chart

HERE = Path(__file__).resolve().parent


def _rows(text: str) -> list[dict]:
    rows = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def ratios(text: str) -> dict[str, float]:
    """Bar label → ratio (lower is better), for every figure RESULTS.md holds."""
    bars: dict[str, float] = {}
    for row in _rows(text):
        if "model" in row and "epcloud_s3_s" in row:
            bars["S3 epcloud"] = row["epcloud_ratio"]
            if "idfkit_ratio" in row:
                bars["S3 idfkit"] = row["idfkit_ratio"]
        elif "model" in row:
            name = row["model"].split(".")[0].replace("Uncontrolled", "").replace("AirCooled", "")
            bars[f"{name} epcloud"] = row["epcloud_ratio"]
            if "idfkit_ratio" in row:
                bars[f"{name} idfkit"] = row["idfkit_ratio"]
        elif "workers" in row:
            bars["batch epcloud"] = row["epcloud_ratio"]
            if "idfkit_ratio" in row:
                bars["batch idfkit"] = row["idfkit_ratio"]
    return bars


def main() -> None:
    bars = ratios((HERE / "RESULTS.md").read_text())
    svg = bar_chart("Time relative to the raw engine - lower is better (1.0 = no overhead)", bars)
    (HERE / "results.svg").write_text(svg)
    print(f"wrote {HERE / 'results.svg'} ({len(bars)} bars)")


if __name__ == "__main__":
    main()

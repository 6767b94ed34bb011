"""Run every benchmark in one go and put what they print into benchmarks/RESULTS.md, with the machine
and the date.

    .venv/bin/python benchmarks/run_all.py [--quick]

Each benchmark is its own script (see the list below); this only runs them in turn, keeps what they print
and writes it, with the targets, as the "From run_all.py" part of the script's section of RESULTS.md.
Everything else in RESULTS.md (hand-written sections, before/after tables) is kept as it is. Run it on
an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (script, arguments, arguments with --quick, what it measures and its target)
BENCHMARKS = [
    (
        "bench_load_idf.py",
        [],
        ["-n", "20"],
        "`load_idf` and `to_idf` of RefBldgMediumOfficeNew2004_Chicago.idf, schema warm. Target ≤ 7 ms each. "
        "The `idfkit` rows are idfkit 1.1.1 (its own venv) in the same run: `load_idf`, `write_idf` (to a "
        "string, as `to_idf`) and `copy`, schema warm, the same number of runs.",
    ),
    (
        "bench_simulate.py",
        [],
        ["--repeat", "3"],
        "`simulate()` vs the raw `energyplus` command: 1ZoneUncontrolled annual, 5ZoneAirCooled design-day. "
        "Targets ≤ 1.01× and ≤ 1.02× raw (idfkit 1.1.1: ×1.01, ×1.06). `raw_with_sql` runs the model as "
        "epcloud prepares it (Output:SQLite added, as SPEC §3 requires), so the SQL file EnergyPlus writes "
        "is not counted as epcloud overhead. `epcloud_overhead_ms` is the time each `simulate()` call spends "
        "outside the engine process (load, copy, status, cleanup), measured inside the call, so it is free "
        "of the engine's run-to-run noise on this virtual machine; `_pct` is it over `raw_with_sql`.",
    ),
    (
        "bench_s3.py",
        [],
        ["--repeat", "3"],
        "`simulate(fs=S3FileSystem)` to a local moto server vs raw `energyplus`, with HTTP requests counted. "
        "Target ≤ 1.05× (idfkit 1.1.1: ×1.25 with 21 sequential PUTs). `epcloud_overhead_ms`: time outside "
        "the engine process, the upload to the moto server (which shares the 2 cores) included.",
    ),
    (
        "bench_batch.py",
        ["--repeat", "3"],
        ["--repeat", "1"],
        "16 design-day jobs on all cores: wall time / (Σ single raw runs / cores). Target ≤ 1.02 "
        "(idfkit 1.1.1: ×1.04). `raw_parallel` runs the same raw engine commands as many at a time as "
        "there are cores: the machine's own limit for concurrent engines.",
    ),
    (
        "bench_study.py",
        [],
        ["--jobs", "40", "--small", "10"],
        "A 1,000-job design-day study on a local moto server: create, run, collect, with times and request "
        "counts per step; collect of 20 and of 1,000 results vs the sequential `from_directory` loop "
        "(epcloud, and idfkit 1.1.1). Target: collect ≥ 10× faster than the idfkit loop at 1,000 "
        "(idfkit: 17.5 ms and 3 requests per result).",
    ),
    (
        "bench_weather_index.py",
        [],
        [],
        "Station index: load, search, nearest; refresh from full-size local KML listings, check, load.",
    ),
]


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; load average {load:.2f} at start"
    )


RUN_ALL_HEADING = "### From run_all.py"
_PREAMBLE = [
    "# Benchmark results",
    "",
    "Each benchmark interleaves its variants (raw, epcloud, idfkit 1.1.1 in its own venv) so drift in",
    "machine load hits them alike; figures are medians. On a shared virtual machine the same raw engine",
    "run varies by up to ±30% from one run to the next, so ratios of end-to-end medians move by several",
    "percent between runs; `epcloud_overhead_ms`, measured inside each call, is the steady measure of",
    "epcloud's own cost.",
    "",
]
_CHART = ["## Chart", "", "![epcloud and idfkit 1.1.1 against the raw engine](results.svg)", ""]


def _sections(text: str) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The lines before the first "## " heading, and each "## " section as (heading, its lines)."""
    preamble: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("## "):
            sections.append((line, []))
        elif sections:
            sections[-1][1].append(line)
        else:
            preamble.append(line)
    return preamble, sections


def _replace_run_all_part(body: list[str], part: list[str]) -> list[str]:
    """``body`` with its "From run_all.py" part (up to the next "### " heading) replaced by ``part``,
    or ``part`` appended when it has none."""
    start = next((i for i, line in enumerate(body) if line.startswith(RUN_ALL_HEADING)), None)
    if start is None:
        while body and not body[-1].strip():
            body = body[:-1]
        return [*body, "", *part]
    end = next((i for i in range(start + 1, len(body)) if body[i].startswith("### ")), len(body))
    return [*body[:start], *part, *body[end:]]


def merge_results(text: str, runs: dict[str, list[str]]) -> str:
    """RESULTS.md with each run script's "From run_all.py" part replaced; all else kept. A script with
    no section yet gets one, before the chart."""
    preamble, sections = _sections(text)
    if not preamble and not sections:
        preamble = list(_PREAMBLE)
    done = set()
    merged: list[tuple[str, list[str]]] = []
    for heading, body in sections:
        script = heading[3:].strip()
        if script in runs:
            body = _replace_run_all_part(body, runs[script])
            done.add(script)
        merged.append((heading, body))
    new = [(f"## {script}", ["", *part]) for script, part in runs.items() if script not in done]
    chart = next((i for i, (heading, _) in enumerate(merged) if heading == "## Chart"), None)
    if chart is None:
        merged += new
        merged.append((_CHART[0], _CHART[1:]))
    else:
        merged[chart:chart] = new
    lines = list(preamble)
    for heading, body in merged:
        lines += [heading, *body]
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run, not for figures)")
    args = parser.parse_args()
    from epcloud.engine import find_energyplus

    engine = find_energyplus()
    stamp = f"{RUN_ALL_HEADING} ({dt.date.today().isoformat()}{', --quick' if args.quick else ''})"
    where = f"Machine: {machine()}. Engine: EnergyPlus {engine.version_string} ({engine.build})."
    runs: dict[str, list[str]] = {}
    for script, normal, quick, what in BENCHMARKS:
        start = time.perf_counter()
        run = subprocess.run(
            [sys.executable, str(HERE / script), *(quick if args.quick else normal)],
            capture_output=True,
            text=True,
            cwd=HERE,
        )
        took = time.perf_counter() - start
        output = run.stdout.strip() or "(no output)"
        if run.returncode != 0:
            output += f"\n(exit {run.returncode})\n" + "\n".join(run.stderr.strip().splitlines()[-10:])
        runs[script] = [stamp, "", where, "", what, "", "```", output, "```", f"({took:.0f} s)", ""]
        print(f"{script}: {took:.0f} s, exit {run.returncode}", flush=True)
    results = HERE / "RESULTS.md"
    old = results.read_text() if results.exists() else ""
    results.write_text(merge_results(old, runs))
    subprocess.run([sys.executable, str(HERE / "chart.py")], check=True, cwd=HERE)


if __name__ == "__main__":
    main()

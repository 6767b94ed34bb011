"""simulate() to an S3 store (a local moto server) against the raw `energyplus` command, with request counts,
side by side with idfkit 1.1.1's simulate(fs=S3FileSystem) (in its own venv, benchmarks/.venv-idfkit).

Run by hand:  .venv/bin/python benchmarks/bench_s3.py [--repeat 9] [--no-idfkit]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from bench_simulate import MODELS, ensure_idfkit, raw_run  # noqa: E402

from epcloud.engine import find_energyplus  # noqa: E402
from epcloud.run.prepare import prepare_run  # noqa: E402
from epcloud.run.simulate import simulate  # noqa: E402
from epcloud.storage import S3FileSystem  # noqa: E402
from fixtures_s3 import MotoServer, new_client  # noqa: E402

MODEL = "1ZoneUncontrolled.idf"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}

_IDFKIT_RUNNER = """
import sys, time, json
from idfkit import load_idf
from idfkit.simulation import simulate, S3FileSystem
model, weather, endpoint, bucket, out = sys.argv[1:6]
fs = S3FileSystem(bucket, prefix="idfkit/", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
counts = {"n": 0}
fs._client.meta.events.register("before-send.s3", lambda **kw: counts.__setitem__("n", counts["n"] + 1))
load_idf(model)
t = time.perf_counter()
simulate(load_idf(model), weather, output_dir=out, fs=fs, annual=True)
print(json.dumps({"seconds": time.perf_counter() - t, "requests": counts["n"]}))
"""


def epcloud_to_s3(fs: S3FileSystem, model: Path, weather: Path, out: str) -> tuple[float, float, int]:
    """Wall time, the part of it outside the engine process (mostly the upload), and the request count."""
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def on_send(event_name: str, **_: object) -> None:
        with lock:
            counts[event_name.rsplit(".", 1)[-1]] += 1

    fs.client.meta.events.register("before-send.s3", on_send)
    start = time.perf_counter()
    result = simulate(model, weather, output_dir=out, fs=fs, annual=True)
    elapsed = time.perf_counter() - start
    fs.client.meta.events.unregister("before-send.s3", on_send)
    assert result.success
    return elapsed, elapsed - result.runtime_seconds, sum(counts.values())


def idfkit_to_s3(python: Path, model: Path, weather: Path, endpoint: str, out: str, engine_dir: Path) -> dict:
    env = dict(os.environ, ENERGYPLUS_DIR=str(engine_dir))
    args = [str(python), "-c", _IDFKIT_RUNNER, str(model), str(weather), endpoint, "bench", out]
    run = subprocess.run(args, check=True, capture_output=True, text=True, env=env)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--no-idfkit", action="store_true")
    args = parser.parse_args()
    engine = find_energyplus()
    weather = engine.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    model = MODELS / MODEL
    python = None if args.no_idfkit else ensure_idfkit()
    server = MotoServer()
    try:
        new_client(
            server.endpoint, **{k: v for k, v in CREDENTIALS.items() if k != "region_name"}
        ).create_bucket(Bucket="bench")
        fs = S3FileSystem("bench", prefix="epcloud/", endpoint_url=server.endpoint, **CREDENTIALS)
        epcloud_to_s3(fs, model, weather, "warm")
        prepared = Path(tempfile.mkdtemp(prefix="bench-prepared-")) / "in.idf"
        prepared.write_text(prepare_run(model, weather).model_text)  # the model as epcloud runs it
        times: dict[str, list[float]] = {"raw": [], "raw_with_sql": [], "epcloud_s3": [], "idfkit_s3": []}
        requests: dict[str, list[int]] = {"epcloud_s3": [], "idfkit_s3": []}
        overhead: list[float] = []
        for i in range(args.repeat):
            times["raw"].append(raw_run(engine.executable, model, weather, "annual"))
            times["raw_with_sql"].append(raw_run(engine.executable, prepared, weather, "annual"))
            seconds, own, count = epcloud_to_s3(fs, model, weather, f"run-{i}")
            times["epcloud_s3"].append(seconds)
            overhead.append(own)
            requests["epcloud_s3"].append(count)
            if python is not None:
                row = idfkit_to_s3(python, model, weather, server.endpoint, f"run-{i}", engine.install_dir)
                times["idfkit_s3"].append(row["seconds"])
                requests["idfkit_s3"].append(row["requests"])
        shutil.rmtree(prepared.parent)
        medians = {k: statistics.median(v) for k, v in times.items() if v}
        report = {f"{k}_s": round(v, 4) for k, v in medians.items()}
        report["epcloud_ratio"] = round(medians["epcloud_s3"] / medians["raw"], 3)
        report["epcloud_vs_raw_with_sql"] = round(medians["epcloud_s3"] / medians["raw_with_sql"], 3)
        # load, status, upload and cleanup, measured inside each call (free of the engine's run-time noise)
        report["epcloud_overhead_ms"] = round(statistics.median(overhead) * 1e3, 1)
        report["epcloud_overhead_pct"] = round(100 * statistics.median(overhead) / medians["raw_with_sql"], 2)
        report["epcloud_requests"] = requests["epcloud_s3"][-1]
        if "idfkit_s3" in medians:
            report["idfkit_ratio"] = round(medians["idfkit_s3"] / medians["raw"], 3)
            report["idfkit_requests"] = requests["idfkit_s3"][-1]
        print(json.dumps({"model": MODEL, "mode": "annual", **report}))
    finally:
        server.stop()


if __name__ == "__main__":
    main()

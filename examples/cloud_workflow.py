"""The cloud workflow in one script: create a study in the store, run its shards, collect the results.

The study goes to s3://$EPCLOUD_EXAMPLE_BUCKET/examples/study-001; credentials, region and endpoint come
from the standard AWS variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION,
AWS_ENDPOINT_URL_S3) or files. The two workers run here, each in its own process, as two children of
an array job would on two machines. Needs pip install 'epcloud[s3,tables]' (collect uses pandas, pyarrow).
"""

import os
import subprocess
import sys

from epcloud import Study
from epcloud.model import Shoebox
from epcloud.simulation import SimulationJob, find_energyplus

url = f"s3://{os.environ['EPCLOUD_EXAMPLE_BUCKET']}/examples/study-001"
weather = find_energyplus().weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"

# 1. Create, on your laptop. Design days keep the example fast; a real study runs annual simulations.
params = [{"wall_r": r, "window_to_wall": w} for r in (1.0, 4.0) for w in (0.2, 0.5)]
jobs = [
    SimulationJob(
        Shoebox(**p).to_idf(), weather, label=f"r{p['wall_r']:g}-w{p['window_to_wall']:g}", design_day=True
    )
    for p in params
]
study = Study.create(
    url,
    jobs,
    parameters=params,  # become columns of jobs.parquet
    shard_count=2,  # = the array size
    variables=["DistrictHeatingWater:Facility"],  # series each job's summary keeps
    metadata={"project": "retrofit", "author": "ana"},
    overwrite=True,  # running the script again replaces the study
)
print(f"created {study}")

# 2. Run, on the workers: `epcloud worker URL` in each child of the array job, which sets the index.
workers = [
    subprocess.Popen(
        [sys.executable, "-m", "epcloud", "worker", url],
        env={**os.environ, "AWS_BATCH_JOB_ARRAY_INDEX": str(index)},
        stdout=subprocess.PIPE,
        text=True,
    )
    for index in range(study.info.shard_count)
]
for index, worker in enumerate(workers):
    out, _ = worker.communicate()
    print(f"worker {index} (exit code {worker.returncode}): {out.strip()}")

# 3. Collect, from any machine: `epcloud status URL`, then the tables as pandas DataFrames.
status = subprocess.run(
    [sys.executable, "-m", "epcloud", "status", url, "--json"], capture_output=True, text=True, check=True
)
print(f"status: {status.stdout.strip()}")
jobs_table, series = Study.open(url).collect()  # also writes jobs.parquet and timeseries/ into the store
print(f"jobs.parquet: {len(jobs_table)} rows, {len(jobs_table.columns)} columns")
# Design days have no annual energy (those columns are null): their series hold what they simulated.
per_job = series.groupby("job_id")["value"].sum().rename("heating_gj") / 1e9
heating = jobs_table.join(per_job, on="job_id").groupby("wall_r")["heating_gj"].mean()
print(f"mean design-day heating by wall R-value, GJ:\n{heating.round(3).to_string()}")
print(f"timeseries: {len(series)} rows of {', '.join(series['variable'].unique())}")

"""A study run on a Dask cluster instead of array-job workers (pip install 'epcloud[s3,tables,dask]').

EPCLOUD_DASK_SCHEDULER names a running scheduler (tcp://host:8786); without it a small in-process
cluster stands in. The study goes to s3://$EPCLOUD_EXAMPLE_BUCKET/examples/study-dask, which every Dask
worker must reach (credentials from the standard AWS variables or files).
"""

import os

from distributed import Client, LocalCluster

from epcloud import Study
from epcloud.model import Shoebox
from epcloud.simulation import SimulationJob, find_energyplus


def main() -> None:
    url = f"s3://{os.environ['EPCLOUD_EXAMPLE_BUCKET']}/examples/study-dask"
    # The weather file goes into the store with the models, so the Dask workers need no copy of it.
    weather = find_energyplus().weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    params = [{"roof_r": r} for r in (2.0, 6.0)]
    jobs = [
        SimulationJob(Shoebox(**p).to_idf(), weather, label=f"roof-r{p['roof_r']:g}", design_day=True)
        for p in params
    ]
    study = Study.create(url, jobs, parameters=params, overwrite=True)

    scheduler = os.environ.get("EPCLOUD_DASK_SCHEDULER")
    cluster = None if scheduler else LocalCluster(n_workers=1, threads_per_worker=2, processes=False)
    with Client(scheduler or cluster) as client:
        report = study.run(executor=client)  # one task per pending job; the workers read and write the store
    if cluster is not None:
        cluster.close()
    print(f"on Dask: {report.succeeded} succeeded, {report.failed} failed")

    jobs_table, _ = study.collect()
    for row in jobs_table.itertuples():
        print(f"{row.label}: {row.status}, {row.runtime_seconds:.1f} s")


if __name__ == "__main__":  # Dask's process-based clusters re-import this module
    main()

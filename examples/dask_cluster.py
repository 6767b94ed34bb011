"""The same batch on a Dask cluster: pass a distributed.Client as the executor (pip install 'epcloud[dask]').

EPCLOUD_DASK_SCHEDULER names a running scheduler (tcp://host:8786); without it a small in-process
cluster stands in. Outputs go to the store (EPCLOUD_EXAMPLE_BUCKET), which every worker must reach.
"""

import os

from distributed import Client, LocalCluster

from epcloud.model import Shoebox
from epcloud.simulation import S3FileSystem, SimulationJob, find_energyplus, simulate_batch


def main() -> None:
    store = S3FileSystem(os.environ["EPCLOUD_EXAMPLE_BUCKET"], prefix="examples/dask/")
    # Jobs travel as IDF text; the weather must exist on the workers too (or be an s3:// URL).
    weather = find_energyplus().weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    jobs = [
        SimulationJob(
            Shoebox(roof_r=r).to_idf(),
            weather,
            label=f"roof-r{r:g}",
            output_dir=f"roof-r{r:g}",
            design_day=True,
        )
        for r in (2.0, 6.0)
    ]
    scheduler = os.environ.get("EPCLOUD_DASK_SCHEDULER")
    cluster = None if scheduler else LocalCluster(n_workers=1, threads_per_worker=2, processes=False)
    with Client(scheduler or cluster) as client:
        batch = simulate_batch(jobs, executor=client, fs=store)
    if cluster is not None:
        cluster.close()
    for job, result in zip(jobs, batch, strict=True):  # results come back as store locations and open lazily
        print(f"{job.label}: success={result.success} at {result.location}")


if __name__ == "__main__":  # Dask's process-based clusters re-import this module
    main()

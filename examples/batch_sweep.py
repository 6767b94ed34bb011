"""A parameter sweep as one batch into the store, with a cache in the store that other machines share.

Bucket from EPCLOUD_EXAMPLE_BUCKET, credentials and endpoint from the standard AWS variables.
"""

import os

from epcloud.model import Shoebox
from epcloud.simulation import S3FileSystem, SimulationCache, SimulationJob, find_energyplus, simulate_batch

bucket = os.environ["EPCLOUD_EXAMPLE_BUCKET"]
runs = S3FileSystem(bucket, prefix="examples/sweep/")
cache = SimulationCache("simulations", fs=S3FileSystem(bucket, prefix="examples/cache/"))
weather = find_energyplus().weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"

jobs = [
    SimulationJob(
        Shoebox(window_to_wall=wwr).to_idf(),
        weather,
        label=f"wwr-{wwr:.0%}",
        output_dir=f"wwr-{wwr:.0%}",
        design_day=True,
    )
    for wwr in (0.2, 0.4, 0.6)
]
batch = simulate_batch(jobs, fs=runs, cache=cache, max_workers=2)
print(f"first pass: {len(batch.succeeded)} of {len(batch)} succeeded")
cooling = batch["wwr-60%"].sql.get_timeseries("DistrictCooling:Facility")
print(f"wwr-60%: design-day cooling {sum(cooling.values) / 3.6e6:.1f} kWh")

# The same jobs again (say, on another machine): every one is a cache hit and no EnergyPlus runs.
again = simulate_batch(jobs, fs=runs, cache=cache, max_workers=2)
print(f"second pass: {sum(result.cached for result in again)} of {len(again)} from the cache")
print(again.to_dataframe()[["label", "success", "cached"]].to_string(index=False))

"""Async runs into a store and results read back with few requests: two variants at once, then their SQL.

Bucket from EPCLOUD_EXAMPLE_BUCKET, credentials and endpoint from the standard AWS variables.
"""

import asyncio
import os

from epcloud import load_idf
from epcloud.model import Shoebox
from epcloud.simulation import AsyncS3FileSystem, SimulationResult, async_simulate, find_energyplus

WEATHER = find_energyplus().weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"


async def main() -> None:
    bucket = os.environ["EPCLOUD_EXAMPLE_BUCKET"]
    async with AsyncS3FileSystem(bucket, prefix="examples/remote/") as fs:  # epcloud[async]
        runs = {f"wall-r{r:g}": Shoebox(wall_r=r) for r in (1.0, 4.0)}
        results = await asyncio.gather(
            *(
                async_simulate(load_idf(box.to_idf()), WEATHER, output_dir=label, fs=fs, design_day=True)
                for label, box in runs.items()
            )
        )
        print(f"both succeeded: {all(result.success for result in results)}")

        for label in runs:
            # Opening reads the listing and run-status.json; async_fetch() the SQL and .err files.
            result = await SimulationResult.async_from_directory(label, fs)
            await result.async_fetch("sql")
            heating = result.sql.get_timeseries("DistrictHeatingWater:Facility")
            print(f"{label}: design-day heating {sum(heating.values) / 3.6e6:.1f} kWh")

        # Everything a run stored, in parallel: one listing, then concurrent GETs.
        files = await result.async_download(f"downloads/{label}")
        print(f"downloaded {len(files)} files of {label}")


asyncio.run(main())

"""Simulate into an S3 bucket, then re-open the run from the bucket as any other machine would.

The bucket comes from EPCLOUD_EXAMPLE_BUCKET; credentials, region and endpoint from the standard AWS
variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3) or files.
"""

import os

from epcloud import load_idf
from epcloud.model import Shoebox
from epcloud.simulation import S3FileSystem, SimulationResult, find_energyplus, simulate

fs = S3FileSystem(os.environ["EPCLOUD_EXAMPLE_BUCKET"], prefix="examples/project-x/")  # epcloud[s3]
weather = find_energyplus().weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
model = load_idf(Shoebox().to_idf())

# The run happens in a temporary local folder; its outputs go to <prefix>/run-001/ and the folder goes.
result = simulate(model, weather, output_dir="run-001", fs=fs, design_day=True)
print(f"success={result.success}, outputs at {result.location}")

# Later, anywhere with access: only the listing and run-status.json are fetched on opening,
# the SQL file on first use (once), nothing else unless asked.
again = SimulationResult.from_directory("run-001", fs=fs)
print(f"stored files: {', '.join(again.files())}")
temperatures = again.sql.get_timeseries("Zone Mean Air Temperature")
print(f"{len(temperatures)} hourly zone temperatures, peak {max(temperatures.values):.1f} C")

local = again.download("downloads/run-001")  # every stored file: one listing, parallel GETs
print(f"downloaded {len(local)} files to downloads/run-001")

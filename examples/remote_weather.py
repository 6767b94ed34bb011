"""Weather files kept in the store: by a path in the run's store, or by an s3:// URL.

Each remote file is fetched once into a local cache ($EPCLOUD_CACHE_DIR) that runs on the machine share.
Bucket from EPCLOUD_EXAMPLE_BUCKET, credentials and endpoint from the standard AWS variables.
"""

import os

from epcloud import load_idf
from epcloud.model import Shoebox
from epcloud.simulation import S3FileSystem, find_energyplus, simulate

bucket = os.environ["EPCLOUD_EXAMPLE_BUCKET"]
fs = S3FileSystem(bucket, prefix="examples/weather-demo/")
bundled = find_energyplus().weather_dir / "USA_CO_Golden-NREL.724666_TMY3.epw"
fs.upload_file(bundled, "weather/golden.epw")  # once, e.g. when the study is set up

model = load_idf(Shoebox().to_idf())
by_path = simulate(model, "weather/golden.epw", fs=fs, output_dir="runs/by-path", design_day=True)
by_url = simulate(
    model,
    f"s3://{bucket}/examples/weather-demo/weather/golden.epw",
    fs=fs,
    output_dir="runs/by-url",
    design_day=True,
)
print(f"weather by store path: success={by_path.success}, by URL: success={by_url.success}")
print(f"weather recorded in run-status.json: {by_url.status.weather_name}")

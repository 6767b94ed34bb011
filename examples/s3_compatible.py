"""The same code on MinIO, LocalStack or DigitalOcean Spaces: only the endpoint and region change.

EPCLOUD_EXAMPLE_SERVICE picks the service (minio, localstack, spaces), EPCLOUD_EXAMPLE_ENDPOINT
overrides its address, EPCLOUD_EXAMPLE_BUCKET names the bucket; the access keys come from
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (MinIO's user, Spaces' keys, anything for LocalStack).
"""

import os

from epcloud import load_idf
from epcloud.model import Shoebox
from epcloud.simulation import find_energyplus, open_fs, simulate

SERVICES = {
    "minio": {"endpoint_url": "http://localhost:9000"},
    "localstack": {"endpoint_url": "http://localhost:4566", "region_name": "us-east-1"},
    "spaces": {"endpoint_url": "https://nyc3.digitaloceanspaces.com", "region_name": "nyc3"},
}

service = os.environ.get("EPCLOUD_EXAMPLE_SERVICE", "minio")
options = dict(SERVICES[service])
if os.environ.get("EPCLOUD_EXAMPLE_ENDPOINT"):
    options["endpoint_url"] = os.environ["EPCLOUD_EXAMPLE_ENDPOINT"]

bucket = os.environ["EPCLOUD_EXAMPLE_BUCKET"]
# open_fs("s3://...") is S3FileSystem(bucket, prefix, **options) from a URL.
fs = open_fs(f"s3://{bucket}/examples/{service}/", **options)

weather = find_energyplus().weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
model = load_idf(Shoebox().to_idf())

# upload= keeps only what you will read back: here the SQL file (run-status.json always goes too).
result = simulate(model, weather, output_dir="run-001", fs=fs, design_day=True, upload=["*.sql"])
print(f"{service}: success={result.success}, stored at {result.location}")
print(f"stored: {', '.join(fs.glob('run-001', '*'))}")

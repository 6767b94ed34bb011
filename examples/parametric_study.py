"""A parametric study from a sweep file: create it in the store, run it here, collect the table with a
column per parameter, and rank the parameters for the annual lighting and cooling energy.

Sweep file from EPCLOUD_EXAMPLE_SWEEP (default: parametric_shoebox.yaml next to this script); a weather
file it names without a folder is taken from the engine's own weather files. Bucket from
EPCLOUD_EXAMPLE_BUCKET, credentials and endpoint from the standard AWS variables.
"""

import os
from pathlib import Path

from epcloud.simulation import S3FileSystem, find_energyplus
from epcloud.study import Study, Sweep

here = Path(__file__).resolve().parent
sweep = Sweep.from_file(os.environ.get("EPCLOUD_EXAMPLE_SWEEP", here / "parametric_shoebox.yaml"))
engine_weather = find_energyplus().weather_dir
sweep.weather = [w if Path(w).is_file() else engine_weather / w for w in sweep.weather]
print(f"{len(sweep.samples())} samples of {[p.name for p in sweep.parameters]} by {sweep.method}")

store = S3FileSystem(os.environ["EPCLOUD_EXAMPLE_BUCKET"], prefix="examples/parametric/")
study = Study.create(store, sweep, overwrite=True)  # checked against the model before anything is written
report = study.run(max_workers=2)
print(f"ran {report.succeeded} of {study.info.job_count} jobs")

tables = study.collect()
names = [p.name for p in sweep.parameters]
print(tables.jobs[[*names, "end_use/Interior Lighting/Electricity [GJ]"]].round(3).to_string(index=False))

ranked = tables.sensitivity("end_use/Interior Lighting/Electricity [GJ]")
print(f"method: {ranked.attrs['method']}")
print(f"most influential for lighting energy: {ranked['parameter'].iloc[0]}")
print(ranked.round(3).to_string(index=False))

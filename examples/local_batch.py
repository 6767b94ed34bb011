"""A local parameter sweep: one EnergyPlus per CPU, a broken job that does not stop the others, a cache.

Outputs go to ./runs/ under the current folder; the cache to ./sim-cache/ (default: ~/.cache/epcloud).
"""

from pathlib import Path

from epcloud.model import Shoebox
from epcloud.simulation import ProgressEvent, SimulationCache, SimulationJob, find_energyplus, simulate_batch

weather = find_energyplus().weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
jobs = [
    SimulationJob(
        Shoebox(wall_r=r).to_idf(),
        weather,
        label=f"wall-r{r:g}",
        output_dir=f"runs/wall-r{r:g}",
        design_day=True,
    )
    for r in (1.0, 2.0, 4.0)
]
# A model with a mistake EnergyPlus finds (a construction naming a missing material): a failed result.
broken = Shoebox().to_idf().replace("Construction, Roof, Roof Membrane,", "Construction, Roof, Missing,")
jobs.append(SimulationJob(broken, weather, label="broken", output_dir="runs/broken", design_day=True))

finished: list[str] = []


def on_progress(event: ProgressEvent) -> None:  # called from worker threads; keep it quick
    if event.phase == "done":
        finished.append(f"{event.label}={event.message}")


cache = SimulationCache(Path("sim-cache"))
batch = simulate_batch(jobs, cache=cache, on_progress=on_progress)  # progress="rich" draws a bar instead
events = ", ".join(sorted(finished))
print(f"{len(batch.succeeded)} succeeded, {len(batch.failed)} failed; done events: {events}")
print(f"broken: {batch['broken'].errors.fatal[0].message.splitlines()[0]}")
heating = batch["wall-r4"].sql.get_timeseries("DistrictHeatingWater:Facility")
print(f"wall-r4: {len(heating.values)} hourly heating values, total {sum(heating.values) / 3.6e6:.1f} kWh")
print(batch.to_dataframe()[["label", "success", "cached", "severe"]].to_string(index=False))

# The same sweep again: every successful job is a cache hit, and no EnergyPlus runs for it.
again = simulate_batch(jobs, cache=cache)
hits = sum(result.cached for result in again)
print(f"second run: {hits} of {len(again)} from the cache ({cache.entry_count()} entries)")

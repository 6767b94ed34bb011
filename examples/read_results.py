"""Read a run's results: status, errors, time series, tabular reports, raw SQL; re-open it later."""

from epcloud import load_idf
from epcloud.model import Shoebox
from epcloud.simulation import SimulationResult, find_energyplus, simulate

weather = find_energyplus().weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
model = load_idf(Shoebox().to_idf())

with simulate(model, weather, output_dir="runs/results", design_day=True) as result:
    print(f"success={result.success} exit_code={result.exit_code} sql={result.sql_path.name}")
    sql = result.sql

    for env in sql.list_environments():
        print(f"environment {env.index}: {env.name} ({env.type})")
    print(f"{len(sql.list_variables())} variables and meters reported, e.g. {sql.list_variables()[0].name}")

    # key="*" returns every key of the variable; environment= limits it to one design day.
    heating = sql.get_timeseries(
        "Zone Ideal Loads Zone Total Heating Energy", key="*", environment="CHICAGO ANN HTG 99.6% CONDNS DB"
    )
    print(f"peak heating hour: {max(heating.values) / 3.6e6:.2f} kWh ({heating.environment})")
    frame = heating.to_dataframe()  # needs pandas: pip install 'epcloud[tables]'
    print(f"dataframe columns: {list(frame.columns)}")

    u_wall = sql.get_tabular_value("EnvelopeSummary", "Opaque Exterior", "South Wall", "U-Factor with Film")
    print(f"south wall U-factor from the tabular reports: {u_wall} W/m2K")

    (count,) = sql.query("SELECT COUNT(*) FROM Surfaces WHERE ClassName = ?", ["Window"])[0]
    print(f"windows in the model: {count}")

# Any time later, from the folder alone: run-status.json tells how the run went.
again = SimulationResult.from_directory("runs/results")
print(f"re-opened: success={again.success}, EnergyPlus {again.status.energyplus_version}")

# A run that fails inside EnergyPlus does not raise: it returns success=False and the parsed .err file.
broken = load_idf(Shoebox().to_idf())
broken.remove(broken["Zone"]["Office"])
failed = simulate(broken, weather, output_dir="runs/broken", design_day=True)
print(f"broken model: success={failed.success}, {len(failed.errors.severe)} severe error(s)")
print(f"first fatal error: {failed.errors.fatal[0].message.splitlines()[0]}")

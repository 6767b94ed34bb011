"""Find weather stations offline, read an EPW file and move a model to Tampa with its design days."""

from epcloud import load_idf
from epcloud.model import Shoebox
from epcloud.simulation import find_energyplus, simulate
from epcloud.weather import (
    StationIndex,
    apply_design_days,
    read_ddy,
    read_ddy_location,
    read_epw,
    select_design_days,
)

index = StationIndex.load()  # bundled with the package: no network
best = index.search("tampa", country="USA")[0].station
print(f"search 'tampa': {best.display_name} (WMO {best.wmo}, climate zone {best.climate_zone})")
for near in index.nearest(41.98, -87.9, limit=3):
    print(f"near O'Hare: {near.station.display_name} at {near.distance_km:.0f} km")
print(f"stations in Illinois: {len(index.filter(country='USA', state='IL'))}")

# The engine ships a few weather files; WeatherDownloader fetches any station's (see weather_download.py).
weather_dir = find_energyplus().weather_dir
epw = read_epw(weather_dir / "USA_FL_Tampa.Intl.AP.722110_TMY3.epw")
hottest = max(epw.columns["dry_bulb_temperature"])
print(f"EPW {epw.location.city}: {len(epw)} hourly records, hottest {hottest} C")

# Replace the model's design days (and site) with Tampa's 99.6% heating and 0.4% cooling days.
ddy = weather_dir / "USA_FL_Tampa.Intl.AP.722110_TMY3.ddy"
model = load_idf(Shoebox().to_idf())
days = select_design_days(read_ddy(ddy), heating="99.6%", cooling="0.4%")
apply_design_days(model, days, location=read_ddy_location(ddy))
print(f"design days now: {model['SizingPeriod:DesignDay'].names()}")

result = simulate(model, epw.path, output_dir="runs/tampa", design_day=True)
print(f"Tampa design days: success={result.success}")

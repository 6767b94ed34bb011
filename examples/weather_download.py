"""Download a station's weather files (cached after the first time) and simulate with them.

Needs the network, or a mirror of the files named by EPCLOUD_WEATHER_MIRROR (same paths, another host).
"""

import os

from epcloud import load_idf
from epcloud.model import Shoebox
from epcloud.simulation import simulate
from epcloud.weather import StationIndex, WeatherDownloader

station = StationIndex.load().search("Chicago O'Hare")[0].station
downloader = WeatherDownloader(base_url=os.environ.get("EPCLOUD_WEATHER_MIRROR"))  # cache: ~/.cache/epcloud
print(f"{station.display_name}: {downloader.url_for(station)}")

files = downloader.download(station)  # .epw, .ddy and .stat; a second call makes no request
print(f"epw {files.epw.name}, ddy {files.ddy is not None}, stat {files.stat is not None}")

result = simulate(load_idf(Shoebox().to_idf()), files.epw, output_dir="runs/downloaded", design_day=True)
print(f"simulated with downloaded weather: success={result.success}")

"""Weather for simulations: the offline station index, the downloader, EPW files and design days."""

from epcloud.weather.designday import (
    DesignDay,
    SiteLocation,
    apply_design_days,
    read_ddy,
    read_ddy_location,
    select_design_days,
)
from epcloud.weather.download import PartialWeatherFiles, WeatherDownloader, WeatherFiles, default_cache_dir
from epcloud.weather.epw import EPWFile, EPWLocation, parse_epw, read_epw
from epcloud.weather.stations import NearestResult, SearchResult, SpatialResult, StationIndex, WeatherStation

__all__ = [
    "DesignDay",
    "EPWFile",
    "EPWLocation",
    "NearestResult",
    "PartialWeatherFiles",
    "SearchResult",
    "SiteLocation",
    "SpatialResult",
    "StationIndex",
    "WeatherDownloader",
    "WeatherFiles",
    "WeatherStation",
    "apply_design_days",
    "default_cache_dir",
    "parse_epw",
    "read_ddy",
    "read_ddy_location",
    "read_epw",
    "select_design_days",
]

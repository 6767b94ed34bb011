"""KML listings like climate.onebuilding.org's regional ones, written from real stations' facts for tests."""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import escape

from epcloud.weather import WeatherStation


def placemark(station: WeatherStation, drop: str = "") -> str:
    """One weather file as the site lists it: coordinates, and a description table of its facts.

    ``drop`` leaves out the description row starting with that label (to test a placemark lacking it).
    """
    rows = [
        f"<tr><td><b>Data Source {station.source}</td></tr>",
        "<tr><td>NCEI ISD - #years=[15]</td></tr>",
        f"<tr><td>WMO <b>{station.wmo}</b></td></tr>",
        f"<tr><td>Elevation <b>{station.elevation:g}</b> m</td></tr>",
        f"<tr><td>Time Zone {{GMT <b>{station.timezone}</b> hours}}</td></tr>",
        f"<tr><td>ASHRAE HOF 2025 Climate Zone <b>{station.climate_zone}</b></td></tr>",
    ]
    if station.design_conditions_source_wmo:
        rows.append(
            f"<tr><td>Design conditions from alternate WMO {station.design_conditions_source_wmo}</td></tr>"
        )
    heat, cool = station.heating_design_db_c, station.cooling_design_db_c
    rows += [
        f"<tr><td>99% Heating DB <b>{heat} C</b>, <b>{heat * 1.8 + 32:.1f} F</b></td></tr>",
        f"<tr><td>1% Cooling DB <b>{cool} C</b>, <b>{cool * 1.8 + 32:.1f} F</b></td></tr>",
        f"<tr><td>HDD18 <b>{station.hdd18}</b>, CDD10 <b>{station.cdd10}</b></td></tr>",
        f"<tr><td>URL {station.url}</td></tr>",
    ]
    if drop:
        rows = [row for row in rows if not row.replace("<b>", "").startswith(f"<tr><td>{drop}")]
    title = " ".join(
        part for part in (station.country, station.state, f"{station.name}.{station.wmo}") if part
    )
    table = "\n       ".join(
        [f'<table><tr><td colspan="2"><b>{title} {station.dataset}</b></td></tr>', *rows]
    )
    return f"""  <Placemark>
    <name>{escape(station.name)} {station.state} {station.country}</name>
    <description><![CDATA[{table}</table>]]></description>
    <styleUrl>#weatherlocation</styleUrl>
    <Point>
      <altitudeMode>absolute</altitudeMode>
      <coordinates>{station.longitude},{station.latitude},{station.elevation}</coordinates>
    </Point>
  </Placemark>
"""


def kml(stations: Iterable[WeatherStation], region: str = "Region", placemarks: Iterable[str] = ()) -> bytes:
    """A listing: a region label placemark (no URL), then one placemark per station."""
    body = "".join(placemark(station) for station in stations) + "".join(placemarks)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
<Document>
  <name>{region}</name>
  <Placemark>
    <name>{region}</name>
    <description><![CDATA[<b>{region}</b>]]></description>
    <Point><coordinates>0,0,0</coordinates></Point>
  </Placemark>
{body}</Document>
</kml>
""".encode()

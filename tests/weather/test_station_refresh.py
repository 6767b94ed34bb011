"""`StationIndex.refresh` / `check_for_updates` / `from_stations`, and the refreshed index `load` prefers.

A local HTTP server stands in for climate.onebuilding.org: it serves KML listings written from real
stations' facts (taken from the bundled index), with ``Last-Modified`` dates.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import socket
from pathlib import Path

import pytest
from listing_kml import kml, placemark
from weather_http import Reply, WeatherServer

from epcloud.cli import main
from epcloud.errors import WeatherDownloadError, WeatherFormatError
from epcloud.weather import StationIndex, WeatherStation, indexfile
from epcloud.weather.indexbuild import build_table, entries_from_listing, listing_item
from epcloud.weather.listing import LISTING_FILES, parse_kml
from epcloud.weather.refresh import BASE_URL_ENV, refreshed_index_path

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE = (
    Path(os.environ.get("EPCLOUD_SHARED_DIR", REPO_ROOT.parent / "shared"))
    / "weather"
    / "onebuilding-stations.json.gz"
)

# Real stations per regional listing: In Salah has its design conditions from WMO 606300, Guantanamo Bay
# has no state, Joinville Island's files sit at the site's top level.
STATIONS_OF = dict(
    zip(
        LISTING_FILES,
        (
            ["606305"],
            ["476860"],
            ["276120"],
            ["830750"],
            ["725300"],
            ["716230"],
            ["785260", "783670"],
            ["947650"],
            ["037720"],
            ["892530", "896060"],
        ),
        strict=True,
    )
)
WMOS = [wmo for wmos in STATIONS_OF.values() for wmo in wmos]


def _date(day: int, month: str = "Nov") -> str:
    """A Last-Modified date after the bundled index's listings (March 2026)."""
    return f"Sun, {day:02d} {month} 2026 16:56:48 GMT"


class Site:
    """The test server laid out like climate.onebuilding.org: listings at /sources/<file>."""

    def __init__(self, server: WeatherServer, index: StationIndex) -> None:
        self.server = server
        self.url = server.url
        self.dates = {name: _date(i + 1) for i, name in enumerate(LISTING_FILES)}
        self.listings = {
            name: kml([s for wmo in wmos for s in index.datasets(wmo)], region=name)
            for name, wmos in STATIONS_OF.items()
        }
        for name in LISTING_FILES:
            self.publish(name)

    def publish(self, name: str, body: bytes | None = None, **reply: object) -> None:
        """Serve a listing (its own body unless given) with its date."""
        headers = {"Last-Modified": self.dates[name]} if self.dates.get(name) else {}
        data = self.listings[name] if body is None else body
        self.server.serve(
            f"/sources/{name}",
            Reply(body=data, headers=headers, content_type="application/vnd.google-earth.kml+xml", **reply),  # type: ignore[arg-type]
        )


@pytest.fixture
def site(weather_server: WeatherServer, station_index: StationIndex) -> Site:
    return Site(weather_server, station_index)


@pytest.fixture
def refreshed(site: Site, tmp_path: Path) -> StationIndex:
    return StationIndex.refresh(cache_dir=tmp_path, base_url=site.url)


def _folder_state(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir()}


# ---------------------------------------------------------------- refresh and load


def test_refresh_rebuilds_the_index_from_the_listings(
    site: Site, refreshed: StationIndex, station_index: StationIndex, tmp_path: Path
) -> None:
    assert refreshed.path == tmp_path / "stations.bin.gz" and refreshed.path.is_file()
    assert len(refreshed) == len(WMOS)
    for wmo in WMOS:  # every fact of every file, in the same order of preference as the bundled index
        assert refreshed.datasets(wmo) == station_index.datasets(wmo)
    assert refreshed.get("606305").design_conditions_source_wmo == "606300"
    assert refreshed.get("725300").design_conditions_source_wmo is None
    assert refreshed.get("892530").url == station_index.get("892530").url  # a file at the site's top level
    assert refreshed.last_modified == site.dates
    assert refreshed.built_at > station_index.built_at
    assert {path: n for (method, path), n in site.server.methods.items()} == {
        f"/sources/{name}": 1 for name in LISTING_FILES
    }
    assert {method for method, _ in site.server.methods} == {"GET"}
    # What refresh wrote is what load reads, from the folder given or from a path.
    loaded = StationIndex.load(cache_dir=tmp_path)
    assert loaded.path == refreshed.path and loaded.stations == refreshed.stations
    assert StationIndex.load(refreshed.path).stations == refreshed.stations
    assert refreshed.search("chicago")[0].station == station_index.get("725300")
    assert refreshed.nearest(41.98, -87.9, limit=1)[0].station.wmo == "725300"
    assert [s.wmo for s in refreshed.filter(wmo_region=7)] == ["896060"]  # the top-level files name no region


def test_load_prefers_the_refreshed_index_everywhere(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EPCLOUD_CACHE_DIR", str(tmp_path))
    assert StationIndex.load().path is None  # nothing refreshed yet: the bundled index
    assert main(["weather", "search", "berlin", "--json"]) == 0
    capsys.readouterr()
    StationIndex.refresh(base_url=site.url)
    path = tmp_path / "weather" / "stations.bin.gz"
    assert path.is_file() and refreshed_index_path() == path
    index = StationIndex.load()
    assert index.path == path and len(index) == len(WMOS)
    assert index.search("berlin") == []
    # The commands read the refreshed index too.
    assert main(["weather", "search", "berlin", "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == []
    assert main(["weather", "nearest", "52.5", "13.4", "--json", "--limit", "1"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["wmo"] == "037720"  # London is the nearest it knows


def test_a_newer_bundled_index_wins_over_an_older_refresh(
    site: Site, station_index: StationIndex, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    entries = entries_from_listing(listing_item(s) for s in station_index.datasets("725300"))
    old = build_table(entries, {"built_at": "2001-01-01T00:00:00+00:00"})
    refreshed_index_path(tmp_path).write_bytes(old.to_bytes())
    with caplog.at_level("INFO", logger="epcloud.weather.stations"):
        index = StationIndex.load(cache_dir=tmp_path)
    assert index.path is None and len(index) == len(station_index)
    assert "newer than" in caplog.text and str(tmp_path) in caplog.text
    # Refreshed today from a mirror whose listings are older than the bundled index's: the bundled one.
    site.dates = {name: f"Mon, 05 Jan 2026 10:00:0{i} GMT" for i, name in enumerate(LISTING_FILES)}
    for name in LISTING_FILES:
        site.publish(name)
    stale = StationIndex.refresh(cache_dir=tmp_path, base_url=site.url)
    assert stale.built_at > station_index.built_at
    assert StationIndex.load(cache_dir=tmp_path).path is None
    site.dates[LISTING_FILES[0]] = _date(1, "Apr")  # one listing newer than the bundled index's
    site.publish(LISTING_FILES[0])
    StationIndex.refresh(cache_dir=tmp_path, base_url=site.url)
    assert StationIndex.load(cache_dir=tmp_path).path == refreshed_index_path(tmp_path)


def test_an_unreadable_refreshed_index_is_named(tmp_path: Path) -> None:
    path = refreshed_index_path(tmp_path)
    path.write_bytes(gzip.compress(b"not an index"))
    with pytest.raises(WeatherFormatError, match="epcloud weather refresh") as caught:
        StationIndex.load(cache_dir=tmp_path)
    assert str(path) in str(caught.value)


def test_an_index_file_without_the_design_conditions_column_loads(
    station_index: StationIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index written before the design_wmo column existed reads as 'no other source'."""
    entries = entries_from_listing(listing_item(s) for s in station_index.datasets("606305"))
    table = build_table(entries, {"built_at": "2026-01-01T00:00:00+00:00"})
    monkeypatch.setattr(indexfile, "ENTRY_STRINGS", ("prefix",))
    old = table.to_bytes()
    monkeypatch.undo()
    assert b"design_wmo" not in gzip.decompress(old) and b"design_wmo" in gzip.decompress(table.to_bytes())
    (tmp_path / "old.bin.gz").write_bytes(old)
    loaded = StationIndex.load(tmp_path / "old.bin.gz")
    assert [s.design_conditions_source_wmo for s in loaded.stations] == [None] * len(entries)
    assert [
        dataclasses.replace(s, design_conditions_source_wmo=None) for s in station_index.datasets("606305")
    ] == (loaded.datasets("606305"))


def test_a_cache_dir_that_cannot_hold_the_index_is_refused_before_downloading(
    site: Site, tmp_path: Path
) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    with pytest.raises(OSError) as caught:
        StationIndex.refresh(cache_dir=taken, base_url=site.url)
    assert str(taken) in str(caught.value)
    assert site.server.total_hits == 0 and taken.read_text() == "not a folder"


def test_base_url_from_the_environment(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BASE_URL_ENV, site.url)
    index = StationIndex.refresh(cache_dir=tmp_path)
    assert len(index) == len(WMOS) and site.server.total_hits == len(LISTING_FILES)
    monkeypatch.setenv(BASE_URL_ENV, "ftp://mirror.example")
    with pytest.raises(ValueError, match=BASE_URL_ENV):
        StationIndex.refresh(cache_dir=tmp_path)


# ---------------------------------------------------------------- a failed refresh keeps the index


@pytest.mark.parametrize(
    ("case", "error", "expected"),
    [
        ("cut short", WeatherDownloadError, "closed after"),
        ("not XML", WeatherFormatError, "not well-formed XML"),
        ("missing HDD18", WeatherFormatError, "'HDD18'"),
        ("no stations", WeatherFormatError, "names no weather file"),
        ("404", WeatherDownloadError, "HTTP 404"),
    ],
)
def test_a_failed_refresh_keeps_the_previous_index(
    site: Site,
    refreshed: StationIndex,
    station_index: StationIndex,
    tmp_path: Path,
    case: str,
    error: type[Exception],
    expected: str,
) -> None:
    before = _folder_state(tmp_path)
    broken = LISTING_FILES[6]  # the Caribbean, listed after several good ones
    body = site.listings[broken]
    if case == "cut short":
        site.publish(broken, truncate_at=len(body) // 2)
    elif case == "not XML":
        site.publish(broken, body=body.replace(b"</Document>", b"</Documnt>"))
    elif case == "missing HDD18":
        lacking = placemark(station_index.get("783670"), drop="HDD18")
        site.publish(broken, body=kml([station_index.get("785260")], placemarks=[lacking]))
    elif case == "no stations":
        site.publish(broken, body=kml([]))
    else:
        site.server.routes.pop(f"/sources/{broken}")
    with pytest.raises(error, match=expected) as caught:
        StationIndex.refresh(cache_dir=tmp_path, base_url=site.url)
    assert f"{site.url}/sources/{broken}" in str(caught.value)
    if case in ("not XML", "missing HDD18"):
        assert isinstance(caught.value, WeatherFormatError) and caught.value.line
    if case == "missing HDD18":
        assert caught.value.field == "HDD18" and "783670" in str(caught.value)  # type: ignore[attr-defined]
    assert _folder_state(tmp_path) == before  # the index is untouched and no temporary file is left
    assert StationIndex.load(cache_dir=tmp_path).stations == refreshed.stations


def test_an_unreachable_site_keeps_the_previous_index(refreshed: StationIndex, tmp_path: Path) -> None:
    before = _folder_state(tmp_path)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(WeatherDownloadError, match="cannot reach the site") as caught:
        StationIndex.refresh(cache_dir=tmp_path, base_url=url, timeout=5)
    assert f"{url}/sources/{LISTING_FILES[0]}" in str(caught.value)
    with pytest.raises(WeatherDownloadError, match="cannot reach the site"):
        refreshed.check_for_updates(base_url=url, timeout=5)
    assert _folder_state(tmp_path) == before


# ---------------------------------------------------------------- check_for_updates


def test_check_for_updates_compares_last_modified_with_head_requests(
    site: Site, refreshed: StationIndex, station_index: StationIndex
) -> None:
    site.server.methods.clear()
    assert refreshed.check_for_updates(base_url=site.url) is False
    assert set(site.server.methods) == {("HEAD", f"/sources/{name}") for name in LISTING_FILES}
    site.dates[LISTING_FILES[4]] = _date(28)
    site.publish(LISTING_FILES[4])
    assert refreshed.check_for_updates(base_url=site.url) is True
    assert {method for method, _ in site.server.methods} == {"HEAD"}  # never a download
    # The bundled index records the dates of the listings it was built from.
    assert set(station_index.last_modified) == set(LISTING_FILES)
    site.dates = dict(station_index.last_modified)
    for name in LISTING_FILES:
        site.publish(name)
    assert station_index.check_for_updates(base_url=site.url) is False
    assert refreshed.check_for_updates(base_url=site.url) is True


def test_check_for_updates_needs_dates(site: Site, station_index: StationIndex) -> None:
    undated = StationIndex.from_stations(station_index.datasets("725300"))
    assert undated.last_modified == {}
    assert undated.check_for_updates(base_url=site.url) is True  # no recorded date counts as changed
    site.dates[LISTING_FILES[2]] = ""
    site.publish(LISTING_FILES[2])
    with pytest.raises(WeatherDownloadError, match="no Last-Modified") as caught:
        station_index.check_for_updates(base_url=site.url)
    assert f"{site.url}/sources/{LISTING_FILES[2]}" in str(caught.value)


# ---------------------------------------------------------------- the KML parser


def test_parse_kml_reads_a_placemark_and_skips_region_labels(station_index: StationIndex) -> None:
    station = station_index.get("606305", dataset="TMYx.2004-2018")
    entries = parse_kml(kml([station]), "test.kml")
    assert len(entries) == 1
    assert entries[0] == {**listing_item(station), "city": station.name, "wmo": station.wmo}
    assert entries[0]["design_conditions_source_wmo"] == "606300" and entries[0]["source"].startswith(
        "Custom"
    )


def test_parse_kml_takes_a_stray_latin1_byte(station_index: StationIndex) -> None:
    station = station_index.get("830750")
    data = kml([station]).replace(b"<name>Sao.Paulo", "<name>São.Paulo".encode("latin-1"))
    assert data.count("ã".encode("latin-1")) == 1
    assert parse_kml(data, "test.kml")[0]["url"] == station.url


def test_parse_kml_rejects_what_is_not_a_listing() -> None:
    with pytest.raises(WeatherFormatError, match="root element is <html>"):
        parse_kml(b"<html><body>maintenance</body></html>", "https://mirror/x.kml")
    with pytest.raises(WeatherFormatError, match=r"https://mirror/x\.kml, line 2"):
        parse_kml(b'<?xml version="1.0"?>\n<kml><Document>', "https://mirror/x.kml")


# ---------------------------------------------------------------- design conditions source, from_stations


def test_design_conditions_source_wmo_in_the_bundled_index(station_index: StationIndex) -> None:
    in_salah = station_index.get("606305")
    assert in_salah.design_conditions_source_wmo == "606300"
    assert station_index.get("725300").design_conditions_source_wmo is None
    data = in_salah.to_dict()
    assert data["design_conditions_source_wmo"] == "606300"
    assert WeatherStation.from_dict(json.loads(json.dumps(data))) == in_salah
    del data["design_conditions_source_wmo"]
    assert WeatherStation.from_dict(data) == dataclasses.replace(in_salah, design_conditions_source_wmo=None)


@pytest.mark.skipif(not SOURCE.is_file(), reason=f"station listing not found at {SOURCE}")
def test_every_design_conditions_source_of_the_listing_is_indexed(station_index: StationIndex) -> None:
    listing = json.loads(gzip.decompress(SOURCE.read_bytes()))["stations"]
    expected = {s["url"]: s["design_conditions_source_wmo"] for s in listing}
    assert {s.url: s.design_conditions_source_wmo for s in station_index.stations} == expected


def test_an_index_of_station_objects(station_index: StationIndex) -> None:
    chosen = (
        station_index.datasets("725300") + station_index.datasets("037720") + [station_index.get("606305")]
    )
    index = StationIndex(chosen)
    assert len(index) == 3 and index.path is None
    assert sorted(index.stations, key=lambda s: s.url) == sorted(chosen, key=lambda s: s.url)
    assert index.get("725300") == station_index.get("725300")  # the same preferred file
    assert index.search("london")[0].station.wmo == "037720"
    assert index.nearest(41.98, -87.9, limit=1)[0].station.wmo == "725300"
    assert StationIndex.from_stations(reversed(chosen)).stations == index.stations
    assert len(StationIndex([])) == 0


def test_from_stations_refuses_what_it_cannot_keep(station_index: StationIndex) -> None:
    ohare = station_index.get("725300")
    with pytest.raises(ValueError, match="does not match its URL") as caught:
        StationIndex.from_stations([dataclasses.replace(ohare, name="Midway")])
    assert ohare.url in str(caught.value)
    with pytest.raises(ValueError, match="not the URL of a weather file's ZIP"):
        StationIndex.from_stations([dataclasses.replace(ohare, url=ohare.url.removesuffix(".zip") + ".epw")])
    with pytest.raises(TypeError, match="WeatherStation objects, got dict"):
        StationIndex([ohare.to_dict()])  # type: ignore[list-item]


# ---------------------------------------------------------------- the command line


def test_refresh_command(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["weather", "refresh", "--base-url", site.url, "--cache-dir", str(tmp_path)]
    assert main([*args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["path"] == str(tmp_path / "stations.bin.gz") and out["stations"] == len(WMOS)
    assert out["last_modified"] == site.dates
    assert main([*args, "--check"]) == 0
    assert "up to date" in capsys.readouterr().out
    site.dates[LISTING_FILES[0]] = _date(27)
    site.publish(LISTING_FILES[0])
    assert main([*args, "--check", "--json"]) == 1
    changed = json.loads(capsys.readouterr().out)["changed"]
    assert [c["file"] for c in changed] == [LISTING_FILES[0]] and changed[0]["current"] == _date(27)
    assert main(args) == 0
    assert f"{len(WMOS)} stations" in capsys.readouterr().out
    assert main([*args, "--check"]) == 0


def test_refresh_command_errors(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site.server.routes.pop(f"/sources/{LISTING_FILES[3]}")
    assert main(["weather", "refresh", "--base-url", site.url, "--cache-dir", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert f"{site.url}/sources/{LISTING_FILES[3]}" in err and "HTTP 404" in err and "Traceback" not in err
    assert not (tmp_path / "stations.bin.gz").exists()
    assert main(["weather", "refresh", "--base-url", "ftp://mirror", "--cache-dir", str(tmp_path)]) == 2
    assert "http:// or https://" in capsys.readouterr().err


def test_commands_name_an_unreadable_refreshed_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EPCLOUD_CACHE_DIR", str(tmp_path))
    path = refreshed_index_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage")
    assert main(["weather", "search", "chicago"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "`epcloud weather refresh`" in err
    assert "StationIndex" not in err and "Traceback" not in err

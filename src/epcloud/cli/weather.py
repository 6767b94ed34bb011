"""`epcloud weather search|nearest|download|refresh`: find weather stations in the station index, get their
files, and rebuild the index from climate.onebuilding.org's listings."""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from epcloud.errors import StationNotFoundError
from epcloud.weather import StationIndex, WeatherDownloader, WeatherFiles, WeatherStation


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "weather",
        help="find weather stations and download their files",
        description="Search the bundled index of climate.onebuilding.org weather stations and download "
        "their EPW/DDY/STAT files.",
    )
    parser.set_defaults(func=lambda _args: _usage(parser))
    commands = parser.add_subparsers(dest="weather_command", metavar="COMMAND")

    search = commands.add_parser("search", help="find stations by name, WMO number or file name")
    search.add_argument("query", nargs="+", help='e.g. chicago, "paris france", 725300')
    search.add_argument("--limit", type=int, default=10, help="at most this many stations (default 10)")
    search.add_argument("--country", help="only this country (code such as USA, or a name)")
    search.add_argument("--json", action="store_true", help="print the matches as JSON")
    search.set_defaults(func=_search)

    nearest = commands.add_parser("nearest", help="the stations closest to a point")
    nearest.add_argument("latitude", type=float, help="degrees north (negative for south)")
    nearest.add_argument("longitude", type=float, help="degrees east (negative for west)")
    nearest.add_argument("--limit", type=int, default=5, help="at most this many stations (default 5)")
    nearest.add_argument("--max-distance", type=float, help="only stations within this many km")
    nearest.add_argument("--json", action="store_true", help="print the stations as JSON")
    nearest.set_defaults(func=_nearest)

    bundled = commands.add_parser(
        "bundled",
        help="the weather files bundled with the engine (usable as `-w NAME`)",
        description="List the EPW files the EnergyPlus engine ships, with their stations. `run`, `batch` "
        "and `study create` take one by file name or by a term matching one station: `-w chicago`.",
    )
    bundled.add_argument("--energyplus", metavar="PATH", help="EnergyPlus executable or installation folder")
    bundled.add_argument("--json", action="store_true", help="print the files as JSON")
    bundled.set_defaults(func=_bundled)

    download = commands.add_parser("download", help="download a station's weather files into the cache")
    download.add_argument("station", nargs="+", help="a WMO number, a file name or a search query")
    download.add_argument("--dataset", help="a specific file of the station, e.g. TMYx.2009-2023")
    download.add_argument(
        "--cache-dir",
        help="where to keep the files (default: the weather/ folder of the epcloud cache)",
    )
    download.add_argument("--base-url", help="a mirror laid out like climate.onebuilding.org")
    download.add_argument("--json", action="store_true", help="print the file paths as JSON")
    download.set_defaults(func=_download)

    refresh = commands.add_parser(
        "refresh",
        help="rebuild the station index from climate.onebuilding.org's current listings",
        description="Download the site's regional KML listings and rebuild the station index from them into "
        "the epcloud cache, where search, nearest and download find it. With --check, only ask the site "
        "whether its listings changed since the index in use was built (exit 1 if they did).",
    )
    refresh.add_argument("--check", action="store_true", help="only check for newer listings, change nothing")
    refresh.add_argument("--base-url", help="a mirror laid out like climate.onebuilding.org")
    refresh.add_argument(
        "--cache-dir",
        help="where the refreshed index is kept (default: the weather/ folder of the epcloud cache)",
    )
    refresh.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait per request (default 60)"
    )
    refresh.add_argument("--json", action="store_true", help="print the outcome as JSON")
    refresh.set_defaults(func=_refresh)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def station_dict(station: WeatherStation) -> dict[str, Any]:
    """A station as plain JSON-ready data, with its display name and file stem."""
    extra = {"display_name": station.display_name, "file_stem": station.file_stem}
    return {**dataclasses.asdict(station), **extra}


def _search(args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    results = StationIndex.load().search(query, limit=args.limit, country=args.country)
    if args.json:
        rows = [{**station_dict(r.station), "score": r.score, "matched": r.matched} for r in results]
        print(json.dumps(rows, indent=2))
        return 0 if results else 1
    if not results:
        Console(stderr=True).print(f"no weather station matches {escape(query)!r}")
        return 1
    table = _station_table(f"Stations matching {escape(query)!r}, best first")
    table.add_column("Matched on")
    for result in results:
        table.add_row(*_station_cells(result.station), escape(result.matched))
    Console().print(table)
    return 0


def _bundled(args: argparse.Namespace) -> int:
    from epcloud.cli.inputs import bundled_weather

    found = bundled_weather(args.energyplus)
    if args.json:
        rows = [
            {
                "file": w.path.name,
                "path": str(w.path),
                "station": w.station,
                "wmo": w.wmo,
                "source": w.source,
                "latitude": w.latitude,
                "longitude": w.longitude,
            }
            for w in found
        ]
        print(json.dumps(rows, indent=2))
        return 0
    if not found:
        Console(stderr=True).print("the engine bundles no weather files")
        return 1
    table = Table(title="Weather files bundled with the engine")
    table.add_column("File", overflow="fold", ratio=3)
    table.add_column("Station", ratio=2)
    table.add_column("WMO", no_wrap=True)
    for w in found:
        table.add_row(escape(w.path.name), escape(w.station), w.wmo)
    console = Console()
    console.print(table)
    console.print(f"in {escape(str(found[0].path.parent))}", soft_wrap=True, highlight=False)
    Console(stderr=True).print("use one as `-w FILE`, or by a word of its station: `-w chicago`")
    return 0


def _nearest(args: argparse.Namespace) -> int:
    results = StationIndex.load().nearest(
        args.latitude, args.longitude, limit=args.limit, max_distance_km=args.max_distance
    )
    if args.json:
        rows = [{**station_dict(r.station), "distance_km": r.distance_km} for r in results]
        print(json.dumps(rows, indent=2))
        return 0 if results else 1
    if not results:
        Console(stderr=True).print("no weather station within the distance asked")
        return 1
    table = _station_table(f"Stations nearest {args.latitude:g}, {args.longitude:g}")
    table.add_column("km", justify="right")
    for result in results:
        table.add_row(*_station_cells(result.station), f"{result.distance_km:.1f}")
    Console().print(table)
    return 0


def _download(args: argparse.Namespace) -> int:
    station = _resolve(StationIndex.load(cache_dir=args.cache_dir), " ".join(args.station), args.dataset)
    downloader = WeatherDownloader(cache_dir=args.cache_dir, base_url=args.base_url)
    progress = Console(stderr=True)
    if args.json or not progress.is_terminal:
        files = downloader.download(station)
    else:
        with progress.status(f"downloading the weather files of {escape(station.display_name)} ..."):
            files = downloader.download(station)
    if args.json:
        print(json.dumps(_files_dict(files), indent=2))
        return 0
    console = Console()
    console.print(f"[bold]{escape(station.display_name)}[/] ({escape(station.dataset)})")
    for kind, path in (("epw", files.epw), ("ddy", files.ddy), ("stat", files.stat)):
        shown = escape(str(path)) if path else "[dim](not in the ZIP)[/]"
        console.print(f"  {kind:<4} {shown}", soft_wrap=True, highlight=False)
    return 0


def _refresh(args: argparse.Namespace) -> int:
    if args.check:
        return _check(args)
    progress = Console(stderr=True)
    if args.json or not progress.is_terminal:
        index = StationIndex.refresh(cache_dir=args.cache_dir, base_url=args.base_url, timeout=args.timeout)
    else:
        with progress.status("downloading the station listings of climate.onebuilding.org ..."):
            index = StationIndex.refresh(
                cache_dir=args.cache_dir, base_url=args.base_url, timeout=args.timeout
            )
    files = len(index.stations)
    if args.json:
        row = {
            "path": str(index.path),
            "stations": len(index),
            "weather_files": files,
            "built_at": index.built_at,
        }
        print(json.dumps({**row, "last_modified": index.last_modified}, indent=2))
        return 0
    Console(highlight=False, soft_wrap=True).print(
        f"station index refreshed: {len(index)} stations, {files} weather files, in {escape(str(index.path))}"
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    from epcloud.weather.refresh import listing_changes

    index = StationIndex.load(cache_dir=args.cache_dir)
    changes = listing_changes(index.last_modified, base_url=args.base_url, timeout=args.timeout)
    origin = str(index.path) if index.path else "the bundled index"
    if args.json:
        rows = [
            {"file": c.filename, "url": c.url, "indexed": c.indexed, "current": c.current} for c in changes
        ]
        print(json.dumps({"index": origin, "built_at": index.built_at, "changed": rows}, indent=2))
        return 1 if changes else 0
    console = Console(highlight=False, soft_wrap=True)
    if not changes:
        console.print(f"the station index is up to date ({escape(origin)}, built {index.built_at})")
        return 0
    console.print(f"{len(changes)} listings changed since {escape(origin)} was built:")
    for change in changes:
        console.print(f"  {escape(change.filename)}: {change.indexed or '(no date)'} -> {change.current}")
    console.print("run `epcloud weather refresh` to rebuild the index")
    return 1


def _resolve(index: StationIndex, text: str, dataset: str | None) -> WeatherStation:
    """A WMO number's station, else the best search match (its preferred file unless ``dataset``)."""
    if text.strip().isdigit():
        return index.get(text.strip(), dataset=dataset)
    results = index.search(text, limit=1)
    if not results:
        raise StationNotFoundError(f"no weather station matches {text!r}; try `epcloud weather search`")
    station = results[0].station
    return index.get(station.wmo, dataset=dataset) if dataset else station


def _files_dict(files: WeatherFiles) -> dict[str, Any]:
    return {
        "epw": str(files.epw),
        "ddy": str(files.ddy) if files.ddy else None,
        "stat": str(files.stat) if files.stat else None,
        "station": station_dict(files.station),
    }


def _station_table(title: str) -> Table:
    table = Table(title=title)
    for column in ("WMO", "Station", "Dataset", "Zone"):
        table.add_column(column, no_wrap=column != "Station")
    return table


def _station_cells(station: WeatherStation) -> tuple[str, ...]:
    return station.wmo, escape(station.display_name), station.dataset, station.climate_zone.split(" - ")[0]

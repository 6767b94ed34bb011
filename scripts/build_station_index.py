"""Build epcloud's bundled weather-station index from the climate.onebuilding.org station listing.

Usage: python scripts/build_station_index.py [SOURCE] [OUTPUT]
SOURCE is the compiled listing (default: $EPCLOUD_SHARED_DIR/weather/onebuilding-stations.json.gz,
where EPCLOUD_SHARED_DIR defaults to ../shared) or a folder of the site's regional KML listings
(`sources/*.kml`); OUTPUT defaults to src/epcloud/data/stations.bin.gz.
The parsing and building are the package's (`epcloud.weather.listing`, `epcloud.weather.indexbuild`), the
same code `StationIndex.refresh()` runs, so a refreshed index and the bundled one hold the same facts.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from epcloud.weather.indexbuild import build_table, entries_from_listing
from epcloud.weather.indexfile import StationTable
from epcloud.weather.listing import parse_kml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = (
    Path(os.environ.get("EPCLOUD_SHARED_DIR", ROOT.parent / "shared"))
    / "weather"
    / "onebuilding-stations.json.gz"
)
DEFAULT_OUTPUT = ROOT / "src" / "epcloud" / "data" / "stations.bin.gz"
SOURCE_NAME = "climate.onebuilding.org station listings"


def build(source: Path) -> StationTable:
    """The index of a compiled listing (.json.gz) or of a folder of KML listings."""
    if source.is_dir():
        kml_files = sorted(source.glob("*.kml"))
        if not kml_files:
            raise SystemExit(f"{source}: no .kml listing files in this folder")
        items = [item for path in kml_files for item in parse_kml(path.read_bytes(), str(path))]
        newest = max(path.stat().st_mtime for path in kml_files)
        meta = {"built_at": datetime.fromtimestamp(newest, timezone.utc).isoformat(), "source": SOURCE_NAME}
        return build_table(entries_from_listing(items), meta)
    raw = json.loads(gzip.decompress(source.read_bytes()))
    meta = {"built_at": raw["built_at"], "source": SOURCE_NAME, "last_modified": raw.get("last_modified", {})}
    return build_table(entries_from_listing(raw["stations"]), meta)


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else DEFAULT_SOURCE
    output = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    table = build(source)
    output.write_bytes(table.to_bytes())
    print(
        f"{output}: {table.location_count} stations, {len(table.strings['prefix'])} weather files, "
        f"{output.stat().st_size / 1e6:.2f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

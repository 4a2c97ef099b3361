"""geo zones: write the zone registry (and/or a user's zones)."""

import click

from geo.cli.paths import InputPath
from geo.cli.options import emit, json_option, out_option


@click.command(name="zones")
@click.option(
    "--kind",
    type=click.Choice(["new-zone", "high-tech"]),
    default=None,
    help="Only state-level new zones (new-zone) or national high-tech zones (high-tech); default both.",
)
@click.option("--verified-only", is_flag=True, help="Keep only zones whose approval date is verified.")
@click.option(
    "--zones",
    "zones_path",
    metavar="FILE",
    type=InputPath(),
    default=None,
    help="Your zones instead: CSV with name, approval_date and lon,lat and/or host_adcode, or a vector file.",
)
@click.option(
    "--crs",
    type=click.Choice(["wgs84", "gcj02", "bd09"]),
    default="wgs84",
    show_default=True,
    help="Coordinates of --zones: WGS-84, or GCJ-02 (Amap/Tencent) / BD-09 (Baidu), converted to WGS-84.",
)
@out_option(required=True, help="Output file: .gpkg, .geojson, .parquet or .csv (e.g. --out zones.gpkg).")
@json_option
def command(kind, verified_only, zones_path, crs, out_path, as_json):
    """Write the zone registry with host units and approval dates.

    Example: geo zones --kind new-zone --out new_zones.geojson
    """
    from geo import zones
    from geo._io import write_frame

    z = zones.from_file(zones_path, crs=crs) if zones_path else zones.registry(kind, verified_only=verified_only)
    write_frame(z.set_index("zone_id"), out_path)
    counts = z["kind"].value_counts().to_dict()
    summary = {"n": len(z), "by_kind": {str(k): int(v) for k, v in counts.items()}, "out": str(out_path)}

    class _R:
        def to_json(self):
            return summary

        def summary(self):
            return f"{len(z)} zones written to {out_path} " + str(summary["by_kind"])

    emit(_R(), as_json)

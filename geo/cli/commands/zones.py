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
    help="Your zones instead: a table with name, approval_date and lon,lat and/or host_adcode or city (Chinese "
    "headers 园区名称, 批准时间, 经度, 纬度, 所在城市, 坐标系 are read; dates as typed: 2010年9月, 2010.11, "
    "2014/12/6), or a vector file.",
)
@click.option("--skip-undated", is_flag=True, help="Leave out (and list) zones without an approval date.")
@click.option("--encoding", metavar="ENC", default=None, help="Text encoding of a CSV --zones (default: detected).")
@click.option(
    "--crs",
    type=click.Choice(["wgs84", "gcj02", "bd09"]),
    default="wgs84",
    show_default=True,
    help="Coordinates of --zones: WGS-84, or GCJ-02 (Amap/Tencent) / BD-09 (Baidu), converted to WGS-84.",
)
@out_option(required=True, help="Output file: .gpkg, .geojson, .parquet or .csv (e.g. --out zones.gpkg).")
@json_option
def command(kind, verified_only, zones_path, skip_undated, encoding, crs, out_path, as_json):
    """Write the zone registry with host units and approval dates.

    Example: geo zones --kind new-zone --out new_zones.geojson
    """
    from geo import zones
    from geo._io import write_frame

    from geo._io import check_output_path

    check_output_path(out_path)
    if zones_path:
        z = zones.from_file(zones_path, crs=crs, encoding=encoding, skip_undated=skip_undated)
    else:
        z = zones.registry(kind, verified_only=verified_only)
    skipped = z.attrs.get("skipped_undated", [])
    out = z.set_index("zone_id")
    if str(out_path).lower().endswith((".csv", ".xlsx", ".json")):
        # a table keeps the location: WGS-84 lon/lat of the point (of a polygon's representative point)
        pts = out.geometry.representative_point()
        out = out.assign(lon=pts.x.round(7), lat=pts.y.round(7))
    write_frame(out, out_path)
    counts = z["kind"].value_counts().to_dict()
    summary = {"n": len(z), "by_kind": {str(k): int(v) for k, v in counts.items()}, "out": str(out_path),
               "skipped_undated": skipped}

    class _R:
        def to_json(self):
            return summary

        def summary(self):
            text = f"{len(z)} zones written to {out_path} " + str(summary["by_kind"])
            if skipped:
                listed = ", ".join(f"row {r['row']} {r['name']}" for r in skipped[:10])
                text += f"\nnote: {len(skipped)} zones without an approval date left out (--skip-undated): {listed}"
            return text

    emit(_R(), as_json)

"""geo aggregate: count points (and sum their attributes) per prefecture, per polygon or per distance band."""

import click

from geo.cli.paths import InputPath
from geo.cli.options import boundaries_options, emit, json_option, out_option, progress


@click.command(name="aggregate")
@click.option("--points", "points_path", metavar="FILE", type=InputPath(), required=True,
              help="Points: CSV/Parquet with lon/lat columns, GeoParquet, or a vector file of points.")
@click.option("--lon", metavar="COL", default=None, help="Longitude column (default: lon, lng, longitude or x).")
@click.option("--lat", metavar="COL", default=None, help="Latitude column (default: lat, latitude or y).")
@click.option("--crs", "coord_crs", type=click.Choice(["wgs84", "gcj02", "bd09"]), default="wgs84",
              show_default=True, help="Datum of the coordinates; GCJ-02 (Amap) and BD-09 (Baidu) become WGS-84.")
@click.option("--by", type=click.Choice(["prefecture", "polygons", "bands"]), default="prefecture",
              show_default=True,
              help="prefecture: the embedded units (or --boundaries); polygons: --polygons FILE; "
              "bands: distance rings around --zones/--zone-kind (edges --bands).")
@click.option("--polygons", "polygons_path", metavar="FILE", type=InputPath(), default=None,
              help="Any polygons (zone buffers, bands) for --by polygons; may overlap.")
@click.option("--polygon-id", metavar="COL", default=None, help="Id column of --polygons.")
@click.option("--zones", "zones_path", metavar="FILE", type=InputPath(), default=None,
              help="For --by bands: your zones (table with lon/lat, or vector file).")
@click.option("--zone-kind", type=click.Choice(["new-zone", "high-tech"]), default=None,
              help="For --by bands: the built-in zone registry (default new-zone).")
@click.option("--bands", default="50,100,200,300", show_default=True, help="For --by bands: ring edges in km.")
@click.option("--sum", "sums", metavar="COL", multiple=True,
              help="Numeric column to sum per unit (repeat, or separate with commas); output <COL>_sum.")
@click.option("--year", metavar="COL", default=None,
              help="Year or date column: one row per unit and year.")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local: streaming on this machine; dask: on a Dask cluster (dask-geopandas).")
@click.option("--scheduler", metavar="ADDR", default=None,
              help="Dask scheduler address (tcp://host:8786); default: a local cluster. Implies --engine dask.")
@click.option("--workers", type=int, default=2, show_default=True, help="Processes of the local Dask cluster.")
@click.option("--chunksize", type=int, default=1_000_000, show_default=True, help="Rows read at a time.")
@boundaries_options
@out_option(help="Output table (.csv, .parquet, .xlsx, .json): unit id, count and <COL>_sum.")
@json_option
def command(points_path, lon, lat, coord_crs, by, polygons_path, polygon_id, zones_path, zone_kind, bands, sums,
            year, engine, scheduler, workers, chunksize, boundaries_path, boundary_id, scope, out_path, as_json):
    """Count points per unit (units with none get 0; points in no unit are reported).

    Example: geo aggregate --points firms.csv --crs gcj02 --sum capital --year founded --out firms_city.csv
    """
    from geo import points
    from geo._io import write_frame
    from geo.errors import OptionError

    sum_cols = []
    for s in sums:
        sum_cols += [p.strip() for p in s.split(",") if p.strip()]
    if scheduler is not None:
        engine = "dask"
    if by == "polygons":
        if polygons_path is None or polygon_id is None:
            raise OptionError("--by polygons needs --polygons FILE and --polygon-id COL")
        from geo import boundaries

        units = boundaries.from_file(polygons_path, polygon_id)
    elif by == "bands":
        units = _rings(zones_path, zone_kind, bands)
    else:
        if polygons_path is not None:
            raise OptionError("--polygons needs --by polygons")
        from geo.cli.options import load_units

        units = load_units(boundaries_path, boundary_id, scope)
    with progress(disable=as_json) as bar:
        task = bar.add_task("points", total=None)

        def step(done, total):
            bar.update(task, completed=done, total=total)

        result = points.aggregate_points(
            points_path, units, lon=lon, lat=lat, crs=coord_crs, sum_columns=sum_cols, year=year, engine=engine,
            chunksize=chunksize, scheduler=scheduler, n_workers=workers, progress=step,
        )
    write_frame(result.to_frame(), out_path)
    emit(result, as_json)


def _rings(zones_path, zone_kind, bands):
    """Distance rings around zones (geo.radiation.rings), indexed by their band label."""
    from geo import radiation, zones
    from geo.errors import OptionError

    if zones_path is not None and zone_kind is not None:
        raise OptionError("give --zones FILE or --zone-kind, not both")
    zf = zones.from_file(zones_path) if zones_path is not None else zones.registry(zone_kind or "new-zone")
    rings = radiation.rings(zf, bands=bands)
    return rings.set_index("band")

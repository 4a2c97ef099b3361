"""geo zonal: zonal statistics of a raster per unit (prefectures by default)."""

import click

from geo.cli.paths import InputPath
from geo.cli.options import boundaries_options, emit, json_option, out_option


@click.command(name="zonal")
@click.option("--raster", "raster_path", metavar="FILE", type=InputPath(), required=True,
              help="Any raster rasterio reads (GeoTIFF, netCDF, …).")
@click.option("--band", "bands", metavar="N", type=int, multiple=True,
              help="Band number (1-based); repeat for several bands (columns b2_mean, …). Default: band 1.")
@click.option("--years", metavar="Y1,Y2,…", default=None,
              help="Year of each selected band (or of every band, in order): adds a unit-year panel, "
              "written to --out instead of the wide table.")
@click.option("--stats", default="mean", show_default=True,
              help="Comma-separated: mean,sum,min,max,std,count (pixel centre inside the unit) and "
              "cov_mean,cov_sum,cov_min,cov_max,cov_std,cov_count (weighted by the share of each pixel inside).")
@click.option("--crs", metavar="EPSG", default=None,
              help="CRS of a raster that declares none, e.g. EPSG:4326 for a lon/lat grid.")
@click.option("--nodata", type=float, default=None, help="Nodata value overriding the raster's own.")
@boundaries_options
@out_option(help="Output table (.csv, .parquet, .xlsx, .json): unit id and one column per statistic.")
@json_option
def command(raster_path, bands, years, stats, crs, nodata, boundaries_path, boundary_id, scope, out_path, as_json):
    """Summarise a raster per unit: mean, sum, min, max, std, count, coverage-weighted versions.

    Example: geo zonal --raster dem.nc --crs EPSG:4326 --stats cov_mean,cov_std --out elevation.csv
    """
    from geo import raster
    from geo._io import write_frame
    from geo.cli.options import load_units
    from geo.errors import OptionError

    band_years = None
    if years:
        try:
            band_years = [int(y) for y in years.split(",") if y.strip()]
        except ValueError:
            raise OptionError(f"--years {years!r}: give years separated by commas, e.g. 2010,2011,2012") from None
    units = load_units(boundaries_path, boundary_id, scope)
    result = raster.zonal_stats(
        raster_path, units, stats=stats, bands=list(bands) or None, band_years=band_years, crs=crs, nodata=nodata
    )
    write_frame(result.to_frame(), out_path)
    emit(result, as_json)

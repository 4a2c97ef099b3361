"""geo map: offline web maps (choropleth, LISA clusters, spillover, radiation) as self-contained HTML,
or print maps (PNG, SVG, PDF) for papers.

Every subcommand writes one file (--out).  HTML (the default): a web map that opens with no network (add
--tiles for a basemap), optionally a PNG screenshot (--png, needs Chromium).  --format png|svg|pdf (or an
--out ending so): a print map drawn with matplotlib (geo.figures): whole territory, South China Sea inset,
north arrow, scale bar, --dpi, --size, --extent, --review-number.  Prints a summary (--json for
machine-readable output).
"""

import click

from geo._write import atomic_paths
from geo.cli.commands.radiation import load_target, zone_options
from geo.cli.options import boundaries_options, emit, json_option, left_out, load_units, seed_option, weights_option
from geo.cli.paths import InputPath, OutputPath
from geo.errors import OptionError, SchemaError


def _data_option(required: bool):
    def deco(f):
        f = click.option(
            "--id",
            "id_col",
            metavar="COL",
            default=None,
            help="Column of --data holding unit ids; default 'adcode'.",
        )(f)
        return click.option(
            "--data",
            "data_path",
            metavar="FILE",
            type=InputPath(),
            required=required,
            help="A table with an id column (CSV, Excel, Parquet; e.g. from `geo join`), or a vector file."
            + ("" if required else " Default: the boundaries alone."),
        )(f)

    return deco


def _map_options(f):
    f = json_option(f)
    f = click.option(
        "--out", "out_path", metavar="FILE", type=OutputPath(), required=True,
        help="The map: FILE.html is a self-contained web map (Leaflet inlined, no network needed); "
        "FILE.png/.svg/.pdf a print map.",
    )(f)
    f = click.option("--format", "fmt", type=click.Choice(["html", "png", "svg", "pdf"]), default=None,
                     help="Output kind (default: from --out's suffix, else html). png/svg/pdf: print map.")(f)
    f = click.option("--dpi", type=int, default=300, show_default=True, help="Print map resolution (PNG).")(f)
    f = click.option("--size", default="16x12cm", show_default=True,
                     help="Print map size WIDTHxHEIGHT in cm, mm or in (e.g. 16x12cm, 6.5x5in).")(f)
    f = click.option("--inset", type=click.Choice(["auto", "none", "on"]), default="auto", show_default=True,
                     help="South China Sea inset (南海诸岛) of print maps: auto = on maps of all China.")(f)
    f = click.option("--extent", default=None, metavar="EXTENT",
                     help="Print map extent: province:34, zone:合肥:300km or bbox:lon0,lat0,lon1,lat1 "
                     "(default: the whole territory).")(f)
    f = click.option("--review-number", default=None, metavar="TEXT",
                     help='Map review number (审图号) printed in the credit line, e.g. "GS(2024)0650号".')(f)
    f = click.option("--credit", default=None, metavar="TEXT", help="Data source for the print map's credit line.")(f)
    f = click.option("--png", "png_path", metavar="FILE", type=OutputPath(), default=None,
                     help="Also save a PNG screenshot (headless Chromium).")(f)
    f = click.option("--tiles", is_flag=True, help="Add a tile basemap (OpenStreetMap; needs network to show).")(f)
    f = click.option("--units-label", metavar="TEXT", default=None, help="Units of the variable, e.g. 'yuan per person'.")(f)
    f = click.option("--title", metavar="TEXT", default=None, help="Map title (default: the variable).")(f)
    f = click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
                     help="Language of the labels the map writes (legend, clusters 高-高, 无数据, bands).")(f)
    return f


def _out_format(out_path, fmt, png_path) -> str:
    from pathlib import Path

    suffix = Path(out_path).suffix.lower().lstrip(".")
    fmt = fmt or (suffix if suffix in ("png", "svg", "pdf") else "html")
    if fmt != "html" and png_path:
        raise OptionError("--png is the screenshot of a web map; for a print map give --format png (or --out FILE.png)")
    if fmt != "html" and suffix and suffix != fmt:
        raise OptionError(f"--out {out_path} does not end in .{fmt} (--format {fmt})")
    return fmt


def _layout(lang, title, opts) -> dict:
    """The print-map layout options (geo.figures) from the command's options."""
    return {"lang": lang, "title": title, "extent": opts["extent"], "inset": opts["inset"], "size": opts["size"],
            "credit": opts["credit"], "review_number": opts["review_number"]}


def _finish(result, out_path, png_path, as_json, fmt="html", dpi=300, *, extra=None, notes=()):
    if fmt == "html":
        with atomic_paths(out_path, png_path) as (html_tmp, png_tmp):  # both written, or neither
            result.save(html_tmp)
            if png_path:
                result.png(png_tmp)
    else:
        result.save(out_path, format=fmt, dpi=dpi)

    class _Done:
        def to_json(self):
            return {**result.to_json(), "out": str(out_path), "png": str(png_path) if png_path else None}

        def summary(self):
            extra = f"\n  png: {png_path}" if png_path else ""
            return f"{result.summary()}\n  written: {out_path}{extra}"

    emit(_Done(), as_json, extra=extra, notes=notes)


def _load(data_path, id_col, boundaries_path, boundary_id, scope):
    """(UnitData or None, units GeoDataFrame)."""
    if data_path is None:
        return None, load_units(boundaries_path, boundary_id, scope)
    from geo.layers import load_data

    ud = load_data(data_path, id_col=id_col, boundaries=boundaries_path, boundary_id=boundary_id, scope=scope)
    return ud, ud.units


def _title(title, var, ud, lang="en"):
    """The map title, marked SYNTHETIC when the data are (file name, `_synthetic` columns or a `synthetic` flag)."""
    if ud is None or not ud.synthetic:
        return title
    base = title or var or "map"
    if "SYNTHETIC" in base or "模拟数据" in base:
        return base
    return f"{base}（模拟数据）" if lang == "zh" else f"{base} (SYNTHETIC data)"


def _column(ud, var, year):
    """``var`` for one year (or the cross-section) as a Series on unit ids."""
    cs = ud.cross_section(year, columns=[var])
    return cs[var]


def _check_year(ud, year):
    if year is not None and not ud.year_col:
        raise OptionError(f"--year {year}: {ud.source} has no year column")


def lisa_options(f):
    """--weights, --permutations, --seed, --alpha, --correction (local Moran; shared with geo figure moran-scatter)."""
    f = click.option("--correction", type=click.Choice(["none", "bonferroni", "fdr"]), default="none",
                     show_default=True, help="Multiple-testing correction of the pseudo p-values.")(f)
    f = click.option("--alpha", type=float, default=0.05, show_default=True, help="Significance level.")(f)
    f = seed_option(f)
    f = click.option("--permutations", type=int, default=999, show_default=True,
                     help="Conditional permutations for p_sim.")(f)
    return weights_option(f)


@click.group(name="map")
def command():
    """Offline web maps: choropleth, LISA clusters, spillover and radiation (self-contained HTML).

    Example: geo map choropleth --data layers/demo_panel_synthetic.csv --var gdp_pc_synthetic --year 2020 --out gdp.html
    """


@command.command(name="choropleth")
@_data_option(required=True)
@boundaries_options
@click.option("--var", required=True, metavar="COL", help="The variable (column of --data) to map.")
@click.option("--year", type=int, default=None,
              help="Year to map; without it a panel gives one layer per year (classes pooled).")
@click.option("--scheme", default="quantiles", show_default=True,
              help="Classes: quantiles, equal (intervals), jenks (Fisher-Jenks natural breaks) or breaks:10,20,50.")
@click.option("--k", type=int, default=5, show_default=True, help="Number of classes.")
@click.option("--panels", default=None, metavar="YEAR,YEAR,…",
              help="Small multiples: 2-6 synchronised maps of these years side by side (web map, classes pooled).")
@_map_options
def choropleth_cmd(data_path, id_col, boundaries_path, boundary_id, scope, var, year, scheme, k, panels, title,
                   units_label, tiles, png_path, out_path, as_json, lang, fmt, dpi, **opts):
    """Map one variable by class (units without a value: hatched grey, "no data").

    Example: geo map choropleth --data layers/demo_panel_synthetic.csv --var gdp_pc_synthetic --year 2023
    --scheme jenks --k 5 --png gdp.png --out gdp.html
    """
    from geo import viz

    fmt = _out_format(out_path, fmt, png_path)
    ud, units = _load(data_path, id_col, boundaries_path, boundary_id, scope)
    _check_year(ud, year)
    if panels:
        if fmt != "html" or year is not None or not ud.year_col:
            raise OptionError("--panels makes a web map of several years of a panel: no --year, --out FILE.html")
        try:
            years = [int(y) for y in panels.split(",") if y.strip()]
        except ValueError:
            raise OptionError(f"--panels {panels!r}: give years separated by commas, e.g. 2000,2010,2020") from None
        result = viz.small_multiples(units, ud.table, var, years=years, scheme=scheme, k=k,
                                     title=_title(title, var, ud, lang), units_label=units_label, lang=lang)
    elif fmt != "html":
        from geo import figures

        if ud.year_col and year is None:
            raise OptionError(f"a print map shows one year: give --year (the data {ud.source} are a panel)")
        label = f"{var} ({year})" if year is not None else var
        result = figures.choropleth_print(units, _column(ud, var, year).rename(label), scheme=scheme, k=k,
                                          units_label=units_label, **_layout(lang, _title(title, label, ud, lang), opts))
    elif ud.year_col and year is None:
        result = viz.choropleth_years(units, ud.table, var, scheme=scheme, k=k, title=_title(title, var, ud, lang), units_label=units_label, tiles=tiles, lang=lang)
    else:
        values = _column(ud, var, year)
        label = f"{var} ({year})" if year is not None else var
        result = viz.choropleth(
            units, values.rename(label), scheme=scheme, k=k, title=_title(title, label, ud, lang), units_label=units_label, tiles=tiles,
            lang=lang,
        )
    _finish(result, out_path, png_path, as_json, fmt, dpi)


@command.command(name="bivariate")
@_data_option(required=True)
@boundaries_options
@click.option("--x", "x_var", required=True, metavar="COL", help="First variable (columns of the legend square).")
@click.option("--y", "y_var", required=True, metavar="COL", help="Second variable (rows of the legend square).")
@click.option("--year", type=int, default=None, help="Year of a panel to use.")
@click.option("--scheme", type=click.Choice(["quantiles", "equal", "jenks"]), default="quantiles", show_default=True,
              help="How each variable is cut into 3 classes (quantiles = terciles).")
@_map_options
def bivariate_cmd(data_path, id_col, boundaries_path, boundary_id, scope, x_var, y_var, year, scheme, title,
                  units_label, tiles, png_path, out_path, as_json, lang, fmt, dpi, **opts):
    """Map two variables at once: 3×3 classes with a legend square (web map).

    Example: geo map bivariate --data layers/demo_panel_synthetic.csv --x gdp_pc_synthetic
    --y invest_share_synthetic --year 2023 --out bivariate.html
    """
    from geo import viz

    fmt = _out_format(out_path, fmt, png_path)
    if fmt != "html":
        raise OptionError("the bivariate map is a web map: give --out FILE.html (and --png for a picture)")
    ud, units = _load(data_path, id_col, boundaries_path, boundary_id, scope)
    _check_year(ud, year)
    cs = ud.cross_section(year, columns=[x_var, y_var])
    result = viz.bivariate_map(units, cs[x_var], cs[y_var], scheme=scheme,
                               title=_title(title, f"{x_var} × {y_var}", ud, lang), tiles=tiles, lang=lang)
    _finish(result, out_path, png_path, as_json)


@command.command(name="lisa")
@_data_option(required=True)
@boundaries_options
@click.option("--var", default=None, metavar="COL",
              help="Variable whose local Moran's I is computed (geo.autocorr.local_moran). Without it, --data must "
              "already hold columns Ii, p_sim and quadrant (e.g. a saved local Moran table).")
@click.option("--year", type=int, default=None, help="Year of a panel to use.")
@lisa_options
@_map_options
def lisa_cmd(data_path, id_col, boundaries_path, boundary_id, scope, var, year, weights_spec, permutations, seed, alpha,
             correction, title, units_label, tiles, png_path, out_path, as_json, lang, fmt, dpi, **opts):
    """Map local Moran clusters (HH, LL, LH, HL, not significant) with the significance rule in the legend.

    Example: geo map lisa --data layers/demo_panel_synthetic.csv --var log_gdp_pc_synthetic --year 2023
    --out lisa.html
    """
    from geo import viz

    fmt = _out_format(out_path, fmt, png_path)
    ud, units = _load(data_path, id_col, boundaries_path, boundary_id, scope)
    _check_year(ud, year)
    if var is None:
        needed = ["Ii", "p_sim", "quadrant"]
        missing = [c for c in needed if c not in ud.table.columns]
        if missing:
            raise SchemaError(
                f"{ud.source}: no column {missing[0]!r}; give --var COL to compute local Moran's I, "
                "or a table with columns Ii, p_sim, quadrant"
            )
        cols = needed + [c for c in ("value", "lag") if c in ud.table.columns]
        lisa = ud.cross_section(year, columns=cols)
        label = None
        extra, notes = {}, []
    else:
        from geo.autocorr import local_moran
        from geo.layers import weights_for

        cs = ud.cross_section(year, columns=[var])
        # units without a value (that year) are left out of the statistic, drawn as "no data" and named, as in
        # `geo moran --local`: the weights are built on the units with a value (islands linked), nothing imputed
        with_value = cs[var].notna()
        cs = cs[with_value]
        graph = weights_for(cs, weights_spec, data=cs, restrict=not bool(with_value.all()))
        lisa = local_moran(cs, var, weights=graph, permutations=permutations, seed=seed, adjust=correction,
                           alpha=alpha)
        label = var if year is None else f"{var} ({year})"
        extra, notes = left_out(units, cs.index)
    if fmt == "html":
        result = viz.lisa_map(units, lisa, alpha=alpha, correction=correction, title=_title(title, label, ud, lang), label=label,
                              tiles=tiles, lang=lang)
    else:
        from geo import figures

        result = figures.lisa_print(units, lisa, alpha=alpha, correction=correction, label=label,
                                    **_layout(lang, _title(title, label, ud, lang), opts))
    _finish(result, out_path, png_path, as_json, fmt, dpi, extra=extra, notes=notes)


@command.command(name="spillover")
@_data_option(required=True)
@boundaries_options
@click.option("--var", required=True, metavar="COL",
              help="Column of --data with each unit's effect (e.g. the 'effect' column written by `geo scenario --out`).")
@click.option("--year", type=int, default=None, help="Year of a panel to use.")
@click.option("--host", "hosts", metavar="ID,ID", default=None, help="Unit ids hosting the zone(s), outlined on the map.")
@click.option("--zones", "zones_path", metavar="FILE", type=InputPath(), default=None,
              help="Zones to mark (table or vector file, as for geo zones).")
@click.option("--zone-kind", type=click.Choice(["new-zone", "high-tech"]), default=None,
              help="Mark the built-in registry's zones.")
@click.option("--k", type=int, default=3, show_default=True, help="Classes on each side of zero.")
@_map_options
def spillover_cmd(data_path, id_col, boundaries_path, boundary_id, scope, var, year, hosts, zones_path, zone_kind, k,
                  title, units_label, tiles, png_path, out_path, as_json, lang, fmt, dpi, **opts):
    """Map each unit's effect with colours centred on zero and the zone(s) marked.

    The effects come precomputed in --data (this command fits no model): write them with
    `geo scenario ... --out effects.csv` and map its 'effect' column.

    Example: geo scenario --data layers/demo_panel_synthetic.csv --y log_gdp_pc_synthetic --host 郑州
    --year 2024 --out effects.csv; geo map spillover --data effects.csv --id adcode --var effect --out spill.html
    """
    from geo import viz, zones

    fmt = _out_format(out_path, fmt, png_path)
    ud, units = _load(data_path, id_col, boundaries_path, boundary_id, scope)
    _check_year(ud, year)
    if sum(x is not None for x in (hosts, zones_path, zone_kind)) > 1:
        raise OptionError("give only one of --host, --zones, --zone-kind")
    z = None
    if hosts:
        z = [h.strip() for h in hosts.split(",") if h.strip()]
    elif zones_path:
        z = zones.from_file(zones_path, units=units)
    elif zone_kind:
        z = zones.registry(zone_kind)
    values = _column(ud, var, year)
    label = var if year is None else f"{var} ({year})"
    if fmt == "html":
        result = viz.spillover_map(units, values, zones=z, k=k, title=_title(title, label, ud, lang), units_label=units_label,
                                   tiles=tiles, lang=lang)
    else:
        from geo import figures

        result = figures.spillover_print(units, values.rename(label), zones=z, k=k, units_label=units_label,
                                         **_layout(lang, _title(title, label, ud, lang), opts))
    _finish(result, out_path, png_path, as_json, fmt, dpi)


@command.command(name="radiation")
@_data_option(required=False)
@boundaries_options
@zone_options
@click.option("--var", default=None, metavar="COL",
              help="Colour units by this column of --data (a band label or a numeric effect); "
              "default: the band of each unit (geo.radiation.assign_bands).")
@click.option("--year", type=int, default=None, help="Year of a panel to use with --var.")
@click.option("--no-rings", is_flag=True, help="Do not draw the distance rings.")
@click.option("--k", type=int, default=3, show_default=True, help="Classes on each side of zero for a numeric --var.")
@_map_options
def radiation_cmd(data_path, id_col, boundaries_path, boundary_id, scope, zones_path, zone_kind, zone_crs, bands,
                  corridor_cities, corridor_file, assign, var, year, no_rings, k, title, units_label, tiles, png_path,
                  out_path, as_json, lang, fmt, dpi, extent, inset, size, credit, review_number, **target):
    """Map zones (name, approval date), corridors, distance rings and units by band or by effect.

    Example: geo map radiation --zone-kind new-zone --bands 100,200,300 --out radiation.html
    """
    from geo import radiation, viz

    fmt = _out_format(out_path, fmt, png_path)
    opts = {"extent": extent, "inset": inset, "size": size, "credit": credit, "review_number": review_number}
    ud, units = _load(data_path, id_col, boundaries_path, boundary_id, scope)
    if var is not None and ud is None:
        raise OptionError("--var needs --data")
    # the zone/corridor options are geo radiation's (zone_options); further ones (e.g. --corridor-year) pass on
    zones_gdf, cor = load_target(units, zones_path, zone_kind, zone_crs, corridor_cities, corridor_file, **target)
    edges = radiation.parse_bands(bands)
    if var is None:
        values = radiation.assign_bands(units, zones=zones_gdf, corridor=cor, bands=edges, assign=assign)
    else:
        _check_year(ud, year)
        values = _column(ud, var, year)
    rings = None if no_rings else radiation.rings(zones_gdf, corridor=cor, bands=edges)
    map_title = _title(title, var if year is None or var is None else f"{var} ({year})", ud, lang)
    if fmt == "html":
        result = viz.radiation_map(units, values=values, zones=zones_gdf, corridor=cor, rings=rings, k=k,
                                   title=map_title, units_label=units_label, tiles=tiles, lang=lang)
    else:
        from geo import figures

        result = figures.radiation_print(units, values=values, zones=zones_gdf, corridor=cor, rings=rings, k=k,
                                         units_label=units_label, **_layout(lang, map_title, opts))
    _finish(result, out_path, png_path, as_json, fmt, dpi)

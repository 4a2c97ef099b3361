"""geo weights: build spatial weights from a spec, summarise them, and save them."""

import click

from geo.cli.paths import InputPath, SpecOrInput
from geo.cli.options import boundaries_options, emit, json_option, load_units, out_option


@click.command(name="weights")
@click.option(
    "--spec",
    type=SpecOrInput(),
    required=True,
    metavar="SPEC|FILE",
    help="queen, rook, knn:6, distance:150km, idw:2, idw:2:300km, kernel:triangular:8, economic:VAR, "
    "queen:order2 (exactly 2 steps) or queen:upto2, or a .gal/.gwt/.parquet file.",
)
@boundaries_options
@click.option("--data", "data_path", metavar="FILE", type=InputPath(), default=None,
              help="Table (or joined file) holding the indicator of economic:VAR; several years are averaged.")
@click.option("--id", "id_col", metavar="COL", default=None, help="Id column of --data (default adcode).")
@click.option("--transform", type=click.Choice(["r", "b", "v", "o"]), default="r", show_default=True,
              help="r row-standardised, b binary, v variance-stabilising, o as built.")
@click.option("--islands", default="link", show_default=True, metavar="POLICY",
              help="Units without neighbours: link (to the nearest unit, both ways), link:K, keep, drop, error.")
@click.option("--metric", type=click.Choice(["great-circle", "projected"]), default="great-circle",
              show_default=True, help="Distances between centroids for knn, distance, idw and kernel.")
@out_option(required=False, help="Save the weights: .gal (GeoDa/libpysal/spdep), .gwt (with weights) or .parquet.")
@json_option
def command(spec, boundaries_path, boundary_id, scope, data_path, id_col, transform, islands, metric, out_path,
            as_json):
    """Build spatial weights for the units and print n, links, neighbours, islands and components.

    Example: geo weights --spec knn:6 --out knn6.gal --json
    """
    from geo import weights as gw

    units = load_units(boundaries_path, boundary_id, scope)
    data = None
    if data_path is not None:
        from geo.layers import load_data

        ud = load_data(data_path, id_col=id_col, boundaries=units)
        data = ud.table.set_index(ud.id_name)
    graph = gw.build(spec, units, data=data, transform=transform, islands=islands, metric=metric)
    if out_path is not None:
        gw.save(graph, out_path)
    emit(_Saved(gw.summarize(graph), out_path), as_json)


class _Saved:
    def __init__(self, summary, out):
        self.s = summary
        self.out = out

    def to_json(self):
        return self.s.to_json() | {"out": None if self.out is None else str(self.out)}

    def summary(self):
        text = self.s.summary()
        return text + (f"\nsaved to {self.out}" if self.out else "")

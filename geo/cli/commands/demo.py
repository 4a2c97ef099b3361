"""geo demo: the main job on the embedded default, written under maps/."""

import click

from geo.cli.options import emit, json_option, progress
from geo.cli.paths import OutputDir


@click.command(name="demo")
@click.option("--out", "out_dir", metavar="DIR", type=OutputDir(), default="maps", show_default=True,
              help="Folder for the gallery: maps (*.html), report.html and results/*.json.")
@click.option("--draws", type=int, default=1000, show_default=True, help="Simulation draws for impact inference.")
@click.option("--permutations", type=int, default=999, show_default=True, help="Permutations for Moran/LISA p-values.")
@click.option("--seed", type=int, default=20261122, show_default=True, help="Seed (same seed, same output).")
@json_option
def command(out_dir, draws, permutations, seed, as_json):
    """Run every analysis on the embedded boundaries and the SYNTHETIC demo panel; publish maps and a report.

    Example: geo demo --out maps
    """
    from geo.demo import run_demo

    steps = ["boundaries", "join", "weights", "moran", "spatial Durbin model", "radiation", "scenario", "maps", "report"]
    with progress(disable=as_json) as bar:
        task = bar.add_task("demo", total=len(steps))

        def step(message):
            bar.update(task, description=message, completed=steps.index(message) if message in steps else 0)

        result = run_demo(out_dir, draws=draws, permutations=permutations, seed=seed, progress=step)
        bar.update(task, completed=len(steps))
    emit(result, as_json)

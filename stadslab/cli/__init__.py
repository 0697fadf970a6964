"""The ``stadslab`` command. One module per command group; errors become a message and an exit code.

Exit codes: 0 ok; 1 general; 2 workspace; 3 catalog; 4 ingest; 5 invalid values; 6 schema drift;
7 warehouse; 8 geography; 9 analysis; 10-12 privacy (see stadslab/errors.py).
"""

from __future__ import annotations

import sys

import typer

from stadslab.cli import aggregate as aggregate_cmds
from stadslab.cli import audit as audit_cmds
from stadslab.cli import catalog as catalog_cmds
from stadslab.cli import data as data_cmds
from stadslab.cli import discover as discover_cmds
from stadslab.cli import gate, predict, source
from stadslab.cli import project as project_cmds
from stadslab.cli import route as route_cmds
from stadslab.cli import stream as stream_cmds
from stadslab.cli import weesfietsen as weesfietsen_cmds
from stadslab.errors import StadslabError

app = typer.Typer(help="Stadslab: datagedreven sturing voor gemeenten.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
data_cmds.register(app)
app.add_typer(catalog_cmds.app, name="catalog")


app.command("aggregate")(aggregate_cmds.aggregate)
app.command("audit")(audit_cmds.audit)
app.command("discover")(discover_cmds.discover)
app.command("effect")(__import__("stadslab.cli.effect", fromlist=["effect"]).effect)
app.add_typer(source.app, name="source", help="Kit voor bronhouders: sleutel maken, pseudonimiseren.")
app.add_typer(gate.app, name="gate", help="Publicatiepoort: onthulling voorkomen (minimaal 15).")
app.add_typer(predict.app, name="predict", help="Voorspellen met eerlijke evaluatie.")
app.add_typer(project_cmds.app, name="project", help="Projectregister: ladder, open/gesloten per fase, evaluaties.")
app.add_typer(route_cmds.app, name="route", help="Routes plannen: containers legen met stortritten.")
app.add_typer(stream_cmds.app, name="stream", help="Realtime sensorstreams: HTTP/MQTT, stand, dead letters, simulator.")
app.add_typer(weesfietsen_cmds.app, name="weesfietsen", help="Weesfietsen: labelen, hercontroleren, verwijderen.")
app.add_typer(__import__("stadslab.cli.profiel", fromlist=["app"]).app, name="profiel", help="Profielen (Dynamisch Data Dashboard): lijst, toon, tel via de publicatiepoort.")
try:  # the web app (stadslab/web) is optional for the source-holder kit's core install
    from stadslab.cli.serve import serve as _serve

    app.command("serve")(_serve)
except ImportError:
    pass


def main() -> None:
    try:
        app()
    except StadslabError as exc:
        from rich.markup import escape

        from stadslab.cli.common import err_console

        err_console.print("[bold red]Fout:[/]", escape(str(exc)), highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)

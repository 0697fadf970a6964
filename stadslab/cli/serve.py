"""``stadslab serve``: the web app (pages + API) over one workspace, with uvicorn."""

from __future__ import annotations

from typing import Optional

import typer

from stadslab.cli.common import WorkspaceOpt, err_console, workspace as resolve_workspace


def serve(workspace: Optional[str] = WorkspaceOpt,
          host: str = typer.Option("127.0.0.1", "--host", help="Adres om op te luisteren (0.0.0.0 = alle netwerken)"),
          port: int = typer.Option(8000, "--port", "-p", help="Poort"),
          read_only: bool = typer.Option(False, "--alleen-lezen", help="Warehouse alleen-lezen openen"),
          refresh_every: float = typer.Option(0, "--refresh-every", help="Ververs gewijzigde bronnen elke N seconden "
                                              "terwijl de app draait (0 = uit); de server is de enige schrijver"),
          simulate_sensors: Optional[str] = typer.Option(None, "--simulate-sensors", help="Voed deze stream-dataset "
                                                         "met GESIMULEERDE sensormetingen (demo; stadslab/ingest/stream_sim.py)")) -> None:
    """Start de webapp: startpagina, gebiedsmonitor, incidentenkaart, overleg en de API (/docs)."""
    import uvicorn

    from stadslab.web.app import create_app

    ws = resolve_workspace(workspace)
    app = create_app(ws, read_only=read_only)
    if refresh_every > 0 and not read_only:
        app.state.stadslab.start_refresh_loop(refresh_every)
    if simulate_sensors and not read_only:
        from stadslab.ingest.stream_sim import start_in_server

        start_in_server(app.state.stadslab, simulate_sensors)

    err_console.print(f"Stadslab draait op [bold]http://{host}:{port}[/] (werkruimte {ws.root}); stoppen met Ctrl+C")
    from stadslab.cli.handover import announce, withdraw

    announced = announce(ws, app, port)   # CLI reads and refreshes in other shells are handed to this server
    import signal
    import sys

    def _stop(signum, _frame):            # uvicorn re-raises SIGTERM after its shutdown: withdraw, then exit
        withdraw(announced)
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, _stop)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, proxy_headers=True)
    finally:
        withdraw(announced)

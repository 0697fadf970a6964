"""``stadslab stream …``: source tokens, the MQTT → HTTP forwarder, status and dead letters, the simulator.

Why the MQTT listener is a separate process that forwards to ``POST /api/stream/<dataset>``: the
server is the warehouse's one writer, so every reading goes through its one ingest path (same
validation, same dead letters, same provenance). The listener subscribes with QoS 1 in a persistent
session (clean_session false, a fixed client id) and acknowledges a message to the broker only after
the server answered 200 — i.e. after the DuckDB COMMIT. A crash anywhere in between leaves the
message unacknowledged at the broker, which delivers it again; the (sensor, time) key makes the
second delivery harmless.
"""

from __future__ import annotations

import json
import os
import queue
import time
from datetime import datetime, timedelta, timezone
from typing import Optional
from urllib.parse import urlparse

import typer

from stadslab.cli.common import JsonOpt, WorkspaceOpt, console, err_console, print_json, progress, workspace

app = typer.Typer(help="Realtime sensorstreams: aanleveren via HTTP of MQTT, stand en afgekeurde metingen.",
                  no_args_is_help=True)
TokenOpt = typer.Option(None, "--token", envvar="STADSLAB_STREAM_TOKEN", help="Brontoken (of $STADSLAB_STREAM_TOKEN)")
ServerOpt = typer.Option(None, "--server", help="Adres van 'stadslab serve' (standaard de server die op deze "
                         "werkruimte draait, anders http://127.0.0.1:8000)")


@app.command("token")
def token(dataset: str = typer.Argument(..., help="Stream-dataset uit de catalogus"),
          bron: str = typer.Argument(..., help="Naam van de bron (bijv. sensorleverancier, simulator)"),
          ws: Optional[str] = WorkspaceOpt) -> None:
    """Maak een token voor een bron; het wordt één keer getoond, de werkruimte bewaart alleen de SHA-256."""
    from stadslab.errors import CatalogError
    from stadslab.ingest.stream_tokens import create_token

    w = workspace(ws)
    ds = w.catalog().get(dataset)
    if ds.stream is None:
        raise CatalogError(f"dataset '{dataset}' is geen realtime stream (geen stream-blok)")
    tok = create_token(w, dataset, bron)
    err_console.print(f"Token voor bron [bold]{bron}[/] op {dataset} (bewaar het nu; het staat nergens leesbaar):")
    console.print(tok, highlight=False, soft_wrap=True)


@app.command("status")
def status(dataset: str = typer.Argument(...), server: Optional[str] = typer.Option(
               None, "--server", help="Vraag het aan de draaiende server (anders het warehouse zelf lezen)"),
           limiet: int = typer.Option(20, "--limiet", help="Aantal afgekeurde metingen en verouderde sensoren"),
           ws: Optional[str] = WorkspaceOpt, as_json: bool = JsonOpt) -> None:
    """Aantal metingen, laatste ontvangst, afgekeurd per reden (dead letters), verouderde sensoren."""
    server = server or _announced(ws)
    if server:
        import httpx

        r = httpx.get(f"{server.rstrip('/')}/api/stream/{dataset}/status", params={"limiet": limiet}, timeout=30)
        r.raise_for_status()
        data = r.json()
    else:
        from stadslab.ingest import stream as st

        w = workspace(ws)
        ds = w.catalog().get(dataset)
        with w.warehouse(read_only=True) as wh:
            data = st.status(wh, ds, limit=limiet)
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{dataset}[/]: {data['metingen']:,} metingen van {data['sensoren']:,} sensoren in "
                  f"{data['batches']:,} batches; laatste ontvangst {data.get('laatste_ontvangst') or '–'}".replace(",", "."))
    console.print(f"Afgekeurd (dead letters): {data['afgekeurd']}" +
                  "".join(f"\n  {k}: {v}" for k, v in data["redenen"].items()))
    console.print(f"Verouderd (geen meting in {data.get('verouderd_na_uur', '?')} uur): {data.get('aantal_verouderd', 0)}")
    for d in data["recente_afgekeurd"][:limiet]:
        console.print(f"  [dim]{d['ontvangen']}[/] {d['sensor'] or '–'}: {d['reden']}", highlight=False)


def _announced(ws: Optional[str]) -> str | None:
    """The running ``stadslab serve`` on this workspace (its announcement, stadslab/cli/handover.py): while
    it runs it holds the warehouse, so we ask it instead of opening the file."""
    try:
        from stadslab.cli.handover import running_server

        info = running_server(workspace(ws))
    except Exception:  # no workspace here, or no hand-over module: the caller decides
        return None
    return f"http://127.0.0.1:{info['port']}" if info else None


def _post(server: str, dataset: str, tok: str, body: dict, transport: str, timeout: float = 30):
    import httpx

    return httpx.post(f"{server.rstrip('/')}/api/stream/{dataset}", json=body, timeout=timeout,
                      headers={"Authorization": f"Bearer {tok}", "X-Stadslab-Transport": transport})


@app.command("listen")
def listen(dataset: str = typer.Argument(...),
           broker: str = typer.Option(..., "--broker", help="mqtt://host:poort"),
           topic: Optional[str] = typer.Option(None, "--topic", help="Standaard stadslab/<dataset>/#"),
           server: Optional[str] = ServerOpt, tok: Optional[str] = TokenOpt, ws: Optional[str] = WorkspaceOpt,
           client_id: Optional[str] = typer.Option(None, "--client-id", help="Vast id: de broker bewaart de sessie"),
           batch: int = typer.Option(500, "--batch", help="Hoogstens zoveel berichten per doorgestuurde batch"),
           max_wait: float = typer.Option(0.2, "--wacht", help="Seconden wachten om een batch te vullen")) -> None:
    """Luister op een MQTT-broker en stuur metingen door naar de server; bevestig pas na opslag (QoS 1)."""
    import paho.mqtt.client as mqtt

    from stadslab.errors import StadslabError

    if not tok:
        raise StadslabError("geen brontoken", hint="maak er een met 'stadslab stream token DATASET BRON' en geef "
                                                   "het met --token of $STADSLAB_STREAM_TOKEN")
    u = urlparse(broker)
    if u.scheme not in ("mqtt", "tcp") or not u.hostname:
        raise StadslabError(f"broker '{broker}' is geen mqtt://host:poort")
    topic = topic or f"stadslab/{dataset}/#"
    server = server or _announced(ws) or "http://127.0.0.1:8000"
    inbox: queue.Queue = queue.Queue()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"stadslab-{dataset}",
                         clean_session=False, protocol=mqtt.MQTTv311, manual_ack=True)

    def on_connect(c, _userdata, _flags, reason, _props=None):
        c.subscribe(topic, qos=1)
        err_console.print(f"verbonden met {broker} ({reason}); luistert op {topic}")

    client.on_connect = on_connect
    client.on_message = lambda _c, _u, msg: inbox.put(msg)
    client.connect(u.hostname, u.port or 1883, keepalive=30)
    client.loop_start()
    sent = 0
    try:
        while True:
            msgs = [inbox.get()]
            deadline = time.monotonic() + max_wait
            while len(msgs) < batch and time.monotonic() < deadline:
                try:
                    msgs.append(inbox.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            body = _mqtt_batch(msgs)
            while True:   # the server must have stored it before the broker hears "received"
                try:
                    r = _post(server, dataset, tok, body, "mqtt")
                    if r.status_code in (200, 400):
                        break
                    if r.status_code in (401, 403, 404):
                        raise StadslabError(f"de server weigert de batch: {r.status_code} {r.text[:200]}")
                except (OSError, Exception) as exc:  # noqa: BLE001 — connection refused, timeouts: retry
                    if isinstance(exc, StadslabError):
                        raise
                    err_console.print(f"[yellow]server niet bereikbaar ({type(exc).__name__}); opnieuw over 1 s[/]")
                time.sleep(1)
            for m in msgs:
                client.ack(m.mid, m.qos)
            sent += len(msgs)
    except KeyboardInterrupt:
        pass
    finally:
        client.loop_stop()
        client.disconnect()
        err_console.print(f"{sent} berichten doorgestuurd")


def _mqtt_batch(msgs) -> dict:
    """MQTT messages → an endpoint batch: objects and lists of objects are readings; a message that is
    not JSON goes along as ``rejected`` with its reason, so it lands in the dead letters."""
    readings, rejected = [], []
    for m in msgs:
        try:
            doc = json.loads(m.payload)
        except (ValueError, UnicodeDecodeError) as exc:
            rejected.append({"payload": m.payload[:2000].decode("utf-8", "replace"),
                             "reason": f"ongeldige JSON: {exc} (MQTT-topic {m.topic})"})
            continue
        readings.extend(doc if isinstance(doc, list) else [doc])
    return {"readings": readings, "rejected": rejected}


@app.command("simulate")
def simulate(dataset: str = typer.Argument("denhaag_containervulling"),
             server: Optional[str] = ServerOpt, tok: Optional[str] = TokenOpt, ws: Optional[str] = WorkspaceOpt,
             broker: Optional[str] = typer.Option(None, "--broker", help="Publiceer via MQTT in plaats van HTTP"),
             days: float = typer.Option(1.0, "--dagen", help="Dagen geschiedenis om eerst te sturen"),
             live: bool = typer.Option(False, "--live", help="Daarna blijven sturen, in echte tijd"),
             seed: int = typer.Option(0, "--seed"), registry: Optional[str] = typer.Option(
                 None, "--register", help="CSV van het containerregister (standaard het meegeleverde)")) -> None:
    """Stuur GESIMULEERDE vulgraadmetingen (Den Haag) naar de server over HTTP of MQTT."""
    from pathlib import Path

    from stadslab.demo.container_sim import SensorSimulator, fixed_schedule, load_containers, to_json_readings

    containers = load_containers(Path(registry) if registry else None)
    server = server or _announced(ws) or "http://127.0.0.1:8000"
    now = datetime.now(timezone.utc)
    sim = SensorSimulator(containers, seed=seed, start=now - timedelta(days=days))
    events = fixed_schedule(containers, sim.t, now + timedelta(days=365 if live else 1))
    pub = _mqtt_publisher(broker, dataset) if broker else None
    total = 0
    with progress("gesimuleerde metingen sturen") as say:
        first = True
        while True:
            now = datetime.now(timezone.utc)
            r = sim.step(now, events if first else [])
            first = False
            rows = to_json_readings(r)
            for i in range(0, len(rows), 1000):
                part = rows[i:i + 1000]
                if pub:
                    pub(part)
                else:
                    resp = _post(server, dataset, tok or "", {"readings": part}, "http")
                    resp.raise_for_status()
                total += len(part)
                say(f"{total} verstuurd", i + len(part), len(rows))
            if not live:
                break
            time.sleep(10)
    err_console.print(f"{total} gesimuleerde metingen verstuurd")


def _mqtt_publisher(broker: str, dataset: str):
    import paho.mqtt.client as mqtt

    u = urlparse(broker)
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"stadslab-sim-{os.getpid()}")
    c.connect(u.hostname, u.port or 1883)
    c.loop_start()

    def publish(rows: list[dict]) -> None:
        for row in rows:
            c.publish(f"stadslab/{dataset}/{row['sensor_id']}", json.dumps(row), qos=1).wait_for_publish(10)
    return publish

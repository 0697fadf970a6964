"""Acceptance (issue 11): Mosquitto + server + MQTT forwarder; duplicates, out-of-order and malformed
readings; the server SIGKILLed mid-stream and restarted; every acknowledged reading stored exactly once,
every bad one in the dead letters with its reason."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone

import httpx
import paho.mqtt.client as mqtt

from stadslab.warehouse.store import Warehouse
from stadslab.web.launch import STADSLAB

DS = "denhaag_containervulling"


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_mqtt_and_http_survive_a_killed_server(stream_ws, token, mosquitto, server_factory):
    server = server_factory()
    listener = subprocess.Popen([str(STADSLAB), "stream", "listen", DS, "--broker", f"mqtt://127.0.0.1:{mosquitto}",
                                 "--server", server.base, "--token", token, "--client-id", "test-forwarder"],
                                stdout=subprocess.DEVNULL, stderr=open(stream_ws / "listen.log", "w"))
    try:
        server.start()                                    # meanwhile the forwarder starts and connects to the broker
        deadline = time.time() + 90                       # the forwarder's session exists before we publish
        while "verbonden" not in (stream_ws / "listen.log").read_text():
            assert time.time() < deadline and listener.poll() is None, (stream_ws / "listen.log").read_text()
            time.sleep(0.1)
        _run(stream_ws, token, mosquitto, server)
    finally:
        listener.terminate()
        listener.wait(10)


def _run(stream_ws, token, mosquitto, server):
    sensors = [f"DH-{i:05d}" for i in range(1, 51)]
    t0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=2)
    # MQTT: good readings (some sent twice, some out of order) and bad ones
    good_mqtt = [(s, t0 + timedelta(minutes=7 * k)) for k in range(20) for s in sensors[:25]]
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-publisher")
    pub.connect("127.0.0.1", mosquitto)
    pub.loop_start()
    last = []

    def send(payload: str) -> None:
        last[:] = [pub.publish(f"stadslab/{DS}/x", payload, qos=1)]

    order = list(good_mqtt)
    order[50:150] = reversed(order[50:150])                   # out of order
    bad_mqtt = ['{"sensor_id": "DH-00001", "tijd": ', "niet eens json",            # malformed
                json.dumps({"sensor_id": "ONBEKEND-1", "tijd": iso(t0), "vulgraad": 10}),
                json.dumps({"sensor_id": "DH-00002", "tijd": iso(t0), "vulgraad": 140}),
                json.dumps({"sensor_id": "DH-00003", "tijd": "gisteren", "vulgraad": 10})]
    # HTTP: batches from a client that retries until it gets its acknowledgement
    acked: list[list[tuple[str, datetime]]] = []
    http_bad = {"ONBEKEND-2": "onbekende sensor", "DH-00030": "waarde buiten bereik", "DH-00031": "ongeldige tijd"}

    def http_client() -> None:
        with httpx.Client(timeout=10) as c:
            for b in range(16):
                rows = [(s, t0 + timedelta(minutes=7 * k)) for k in range(b * 4, b * 4 + 4) for s in sensors[25:]]
                body = [{"sensor_id": s, "tijd": iso(t), "vulgraad": 50.0, "batterij": 90.0} for s, t in rows]
                body += body[:5]                                    # duplicates inside the batch
                if b == 3:
                    body += [{"sensor_id": "ONBEKEND-2", "tijd": iso(t0), "vulgraad": 1},
                             {"sensor_id": "DH-00030", "tijd": iso(t0), "vulgraad": -4},
                             {"sensor_id": "DH-00031", "tijd": "2026-13-45T99:00:00Z", "vulgraad": 1}]
                while True:
                    try:
                        r = c.post(f"{server.base}/api/stream/{DS}", json={"readings": body},
                                   headers={"Authorization": f"Bearer {token}"})
                        if r.status_code == 200:
                            acked.append(rows)
                            break
                    except httpx.HTTPError:
                        pass
                    time.sleep(0.2)
                if b % 5 == 4:                                      # a retried (already stored) batch: harmless
                    c.post(f"{server.base}/api/stream/{DS}", json=body, headers={"Authorization": f"Bearer {token}"})
                time.sleep(0.05)

    th = threading.Thread(target=http_client)
    th.start()
    for i, (s, t) in enumerate(order):
        send(json.dumps({"sensor_id": s, "tijd": iso(t), "vulgraad": round(i % 100 * 0.9, 1), "batterij": 80}))
        if i % 97 == 0:
            send(json.dumps({"sensor_id": s, "tijd": iso(t), "vulgraad": 1.0}))   # duplicate (first value wins)
        if i == len(order) // 2:
            server.kill()                                           # mid-stream: SIGKILL, no goodbye
            for b in bad_mqtt:
                send(b)
            time.sleep(1.0)
            server.start()
    last[0].wait_for_publish(30)
    th.join(120)
    assert not th.is_alive()
    # wait until the forwarder has everything the broker holds
    want = len(good_mqtt) + sum(len(r) for r in acked)
    deadline = time.time() + 60
    while time.time() < deadline:
        st = httpx.get(f"{server.base}/api/stream/{DS}/status", timeout=10).json()
        if st["metingen"] >= want and st["afgekeurd"] >= len(bad_mqtt) + len(http_bad):
            break
        time.sleep(0.5)
    server.stop()

    wh = Warehouse.open(stream_ws / "warehouse.duckdb", read_only=True)
    try:
        stored = wh.con.execute(f"SELECT sensor_id, tijd, count(*) OVER (PARTITION BY sensor_id, tijd) FROM stream.{DS}").fetchall()
        keys = {(s, t.astimezone(timezone.utc)) for s, t, _ in stored}
        assert all(n == 1 for *_, n in stored)
        expected = set(good_mqtt) | {k for rows in acked for k in rows}
        assert len(acked) == 16
        assert keys == expected, (len(keys), len(expected))
        dead = wh.con.execute("SELECT sensor_id, reason, payload FROM stream.dead_letters").fetchall()
        reasons = [r for _, r, _ in dead]
        assert sum(r.startswith("ongeldige JSON") for r in reasons) >= 2
        assert any(p == "niet eens json" for *_, p in dead)
        for sensor, why in [("ONBEKEND-1", "onbekende sensor"), ("DH-00002", "waarde buiten bereik"),
                            ("DH-00003", "ongeldige tijd"), *http_bad.items()]:
            assert any(s == sensor and r.startswith(why) for s, r, _ in dead), (sensor, why, dead)
        # the first value of a duplicate wins; a retried batch added nothing
        dup = wh.con.execute(f"SELECT vulgraad FROM stream.{DS} WHERE sensor_id = ? AND tijd = ?",
                             [order[0][0], order[0][1]]).fetchone()
        assert dup[0] == 0.0
        n_batches = wh.con.execute("SELECT count(*) FROM stream.batches WHERE n_duplicate > 0").fetchone()[0]
        assert n_batches >= 6
    finally:
        wh.close()

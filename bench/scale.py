"""National-size workload on DuckDB and on a local Spark standalone cluster (issue 16).

Data (gesimuleerd, generated once with DuckDB to Parquet and cached under /tmp/stadslab-scale):
- incidents: ``--rows`` (default 50 M) spread over the 14,574 Dutch buurten in proportion to their
  real 2024 population (CBS 85984NED, data/demo/nl/kwb); each buurt gets a simulated centre in RD
  and points scatter around it (σ 400 m), so counts per 125 m cell are realistic in shape, not place;
- persons: three pseudonymised sources over ``--persons`` (default 10 M) people — A holds everybody,
  B about 40 %, C about 25 % (+ 5 % pseudonyms of people not in A), 32-hex pseudonyms as the kit writes.

Work (one Ibis expression each, the same code on both engines, as the analyses do):
1. hotspot counts per buurt; 2. hotspot counts per 125 m cell; 3. the 3-source link: persons of A per
gemeente × in_B × in_C (semi-joins, as ``release_aggregate(link=…)`` builds them).

Spark: a standalone master and ``--workers`` workers (default two, ``--cores`` 1 each) from the pyspark
distribution on 127.0.0.1, this process as the driver, with the product's settings (spark.py DEFAULT_CONF);
start-up (cluster + session) is reported apart and not in spark_s.

Each engine runs the workload ``--passes`` times (default 2) in one session, the passes alternating
(DuckDB, Spark, DuckDB, Spark) so both meet the same machine load: pass 1 is cold (the executors' JIT compiles while it runs), the last pass is the steady state of a
long-running cluster. Both are printed with the load average; ``scale-cold …`` is pass 1.
Last line (last pass): ``scale duckdb_s=A spark_s=B ratio=R rows=N``.
Usage: .venv/bin/python bench/scale.py [--rows 50000000] [--persons 10000000] [--workers 2 --cores 1]
       [--passes 2] [--event-log DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

POPULATION = REPO / "data/demo/nl/kwb/bevolking_per_buurt_2024_85984NED.csv"
CACHE = Path(os.environ.get("STADSLAB_SCALE_CACHE", "/tmp/stadslab-scale"))


def generate(rows: int, persons: int) -> Path:
    import duckdb

    out = CACHE / f"r{rows}_p{persons}"
    if (out / "done").exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    con = duckdb.connect(config={"preserve_insertion_order": False, "temp_directory": str(out / "tmp")})
    con.execute(f"""CREATE TABLE buurt AS
        SELECT nhood_id AS buurt_code, 'GM' || substr(nhood_id, 3, 4) AS gemeente_code, population,
               13000 + (hash(nhood_id) % 265000) AS cx, 306000 + (hash(nhood_id || 'y') % 314000) AS cy
        FROM read_csv('{POPULATION}') WHERE population > 0""")
    # cumulative population → each incident picks a buurt by a uniform draw on [0, total)
    con.execute("""CREATE TABLE cum AS SELECT *, sum(population) OVER (ORDER BY buurt_code) AS hi,
                   sum(population) OVER (ORDER BY buurt_code) - population AS lo FROM buurt""")
    total = con.execute("SELECT sum(population) FROM buurt").fetchone()[0]
    t0 = time.perf_counter()
    con.execute(f"""COPY (
        SELECT i AS incident_id, c.buurt_code, c.gemeente_code,
               (['woninginbraak','autokraak','fietsdiefstal','vernieling','geweld'])[1 + (hash(i * 7) % 5)::INT] AS soort,
               TIMESTAMP '2024-01-01' + to_seconds((hash(i * 3) % 31536000)::BIGINT) AS tijd,
               c.cx + 400 * sqrt(-2 * ln(greatest(u1, 1e-12))) * cos(2 * pi() * u2) AS x_rd,
               c.cy + 400 * sqrt(-2 * ln(greatest(u1, 1e-12))) * sin(2 * pi() * u2) AS y_rd
        FROM (SELECT i, (hash(i) % {total})::BIGINT AS r, (hash(i * 5) % 1000000) / 1e6 AS u1,
                     (hash(i * 11) % 1000000) / 1e6 AS u2 FROM range({rows}) t(i)) p
        ASOF JOIN cum c ON p.r >= c.lo
    ) TO '{out / "incidents"}' (FORMAT parquet, PER_THREAD_OUTPUT, ROW_GROUP_SIZE 1000000)""")
    con.execute(f"""COPY (SELECT md5(i::VARCHAR) AS pseudo_id, 'GM' || lpad((hash(i) % 342)::VARCHAR, 4, '0') AS gemeente_code
                          FROM range({persons}) t(i))
                    TO '{out / "source_a"}' (FORMAT parquet, PER_THREAD_OUTPUT)""")
    for name, share, salt in (("source_b", 0.40, 17), ("source_c", 0.25, 29)):
        extra = int(persons * 0.05)
        con.execute(f"""COPY (SELECT md5(i::VARCHAR) AS pseudo_id FROM range({persons}) t(i)
                              WHERE hash(i * {salt}) % 1000 < {int(share * 1000)}
                              UNION ALL SELECT md5((i + {persons * 10})::VARCHAR) FROM range({extra}) t(i))
                        TO '{out / name}' (FORMAT parquet, PER_THREAD_OUTPUT)""")
    print(f"generated {rows:,} incidents and 3 sources over {persons:,} persons in "
          f"{time.perf_counter() - t0:.0f} s → {out}", flush=True)
    con.close()
    (out / "done").write_text("ok")
    return out


def workload(tables: dict) -> dict:
    """The three jobs as Ibis expressions; returns the small results (aggregates) per job and prints
    each job's seconds."""
    import ibis

    inc, a, b, c = tables["incidents"], tables["source_a"], tables["source_b"], tables["source_c"]
    cell = inc.mutate(cx=(inc.x_rd / 125).floor().cast("int64"), cy=(inc.y_rd / 125).floor().cast("int64"))
    linked = a.mutate(in_b=ibis.ifelse(a.pseudo_id.isin(b.pseudo_id), "ja", "nee"),
                      in_c=ibis.ifelse(a.pseudo_id.isin(c.pseudo_id), "ja", "nee"))
    jobs = {"per_buurt": inc.group_by("buurt_code").aggregate(n=inc.count()),
            "per_cell": cell.group_by(["cx", "cy"]).aggregate(n=cell.count()),
            "link": linked.group_by(["gemeente_code", "in_b", "in_c"]).aggregate(persons=linked.pseudo_id.nunique())}
    out, times = {}, []
    for name, expr in jobs.items():
        t0 = time.perf_counter()
        out[name] = expr.to_pyarrow()
        times.append(f"{name} {time.perf_counter() - t0:.1f} s")
    print("    " + ", ".join(times), flush=True)
    return out


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def one_pass(label: str, tables: dict, i: int) -> tuple[dict, float]:
    """The workload once; pass 1 is cold (Spark: the executors' JIT not yet warm), later passes the
    steady state of a long-running cluster."""
    t0 = time.perf_counter()
    res = workload(tables)
    dt = time.perf_counter() - t0
    print(f"  {label} pass {i}: {dt:.1f} s ({load()})", flush=True)
    return res, dt


def duckdb_tables(data: Path) -> dict:
    import duckdb
    import ibis

    raw = duckdb.connect(config={"temp_directory": str(data / "tmp_duck")})
    raw.execute("SET enable_progress_bar = false")
    con = ibis.duckdb.from_connection(raw)
    return {n: con.read_parquet(str(data / n / "*.parquet"), table_name=n)
            for n in ("incidents", "source_a", "source_b", "source_c")}


def start_cluster(tmp: Path, worker_memory: str, workers: int, cores: int):
    import importlib.util

    spec = importlib.util.spec_from_file_location("scale_conftest", REPO / "tests/scale/conftest.py")
    fx = importlib.util.module_from_spec(spec)      # the test fixtures' helpers: one way to start Spark
    spec.loader.exec_module(fx)
    _env, _port_open, _start, _stop, _wait, spark_home = fx._env, fx._port_open, fx._start, fx._stop, fx._wait, fx.spark_home

    from stadslab.web.launch import free_port

    env = _env(tmp)
    cls = str(spark_home() / "bin" / "spark-class")
    port = free_port()
    logs = [tmp / "master.log", *[tmp / f"w{i}.log" for i in range(1, workers + 1)]]
    procs = [_start([cls, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
                     "--webui-port", str(free_port())], logs[0], env)]
    _wait("master", lambda: _port_open(port), 120, procs, logs)
    for i in range(1, workers + 1):
        procs.append(_start([cls, "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}", "--host",
                             "127.0.0.1", "--cores", str(cores), "--memory", worker_memory,
                             "--webui-port", str(free_port())], logs[i], env))
    _wait("workers", lambda: logs[0].read_text(errors="replace").count("Registering worker") >= workers, 180, procs, logs)
    return f"spark://127.0.0.1:{port}", lambda: [_stop(p) for p in reversed(procs)]


def run_both(data: Path, args) -> tuple[dict, list[float], dict, list[float], float]:
    """Passes alternate DuckDB, Spark, DuckDB, Spark… in one run, so both engines meet the same machine
    load. Spark: a standalone cluster, this process the driver, with the product's Spark settings
    (stadslab.warehouse.spark.DEFAULT_CONF: Arrow result transfer, AQE) plus memory and scratch space."""
    from stadslab.warehouse.spark import parquet_table, spark_backend, spark_session

    tmp = Path(tempfile.mkdtemp(prefix="stadslab-spark-"))
    t0 = time.perf_counter()
    master, stop = start_cluster(tmp, args.worker_memory, args.workers, args.cores)
    try:
        conf = {"spark.executor.memory": args.executor_memory, "spark.sql.shuffle.partitions": "16",
                "spark.local.dir": str(tmp / "local"), "spark.driver.memory": "2g",
                "spark.ui.showConsoleProgress": "false"}
        if args.event_log:
            Path(args.event_log).mkdir(parents=True, exist_ok=True)
            conf.update({"spark.eventLog.enabled": "true", "spark.eventLog.dir": "file://" + str(Path(args.event_log).resolve()),
                         "spark.eventLog.compress": "false"})
        session = spark_session(master, "stadslab-bench-scale", conf=conf)
        backend = spark_backend(session)
        tables = {n: parquet_table(backend, "file://" + str(data / n), n)
                  for n in ("incidents", "source_a", "source_b", "source_c")}
        startup = time.perf_counter() - t0
        print(f"  spark start-up (cluster + driver): {startup:.1f} s", flush=True)
        duck = duckdb_tables(data)
        t_d, t_s = [], []
        for i in range(1, args.passes + 1):
            res_d, dt = one_pass("duckdb", duck, i)
            t_d.append(dt)
            res_s, dt = one_pass(f"spark ({args.workers}×{args.cores})", tables, i)
            t_s.append(dt)
        session.stop()
        return res_d, t_d, res_s, t_s, startup
    finally:
        stop()
        shutil.rmtree(tmp, ignore_errors=True)


def same(a: dict, b: dict) -> bool:
    keys = {"per_buurt": ["buurt_code"], "per_cell": ["cx", "cy"], "link": ["gemeente_code", "in_b", "in_c"]}
    ok = True
    for name, key in keys.items():
        x = a[name].to_pandas().sort_values(key).reset_index(drop=True)
        y = b[name].to_pandas().sort_values(key).reset_index(drop=True)
        equal = len(x) == len(y) and (x.astype(str).values == y.astype(str).values).all()
        print(f"  {name}: {len(x):,} rows, identical on both engines: {equal}")
        ok &= bool(equal)
    return ok


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000_000)
    ap.add_argument("--persons", type=int, default=10_000_000)
    ap.add_argument("--workers", type=int, default=2, help="standalone workers on 127.0.0.1")
    ap.add_argument("--cores", type=int, default=1, help="cores per worker (one executor per worker)")
    ap.add_argument("--worker-memory", default="6g")
    ap.add_argument("--executor-memory", default="5g")
    ap.add_argument("--passes", type=int, default=2, help="workload passes per engine; the last line uses the last")
    ap.add_argument("--event-log", default=None, help="folder for Spark's event log (stage times)")
    args = ap.parse_args()
    data = generate(args.rows, args.persons)
    print(f"data (gesimuleerd): {data}; {load()}")
    print(f"duckdb (embedded) and spark (standalone, {args.workers} worker(s) × {args.cores} core(s)), passes alternating:")
    res_d, t_d, res_s, t_s, startup = run_both(data, args)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS of this process (DuckDB + Spark driver): {rss:.0f} MB")
    same(res_d, res_s)
    cores = args.workers * args.cores
    print(f"throughput (last pass): duckdb {args.rows / t_d[-1] / 1e6:.1f} M incident rows/s for all three jobs; "
          f"spark {args.rows / t_s[-1] / 1e6:.1f} M rows/s on {cores} executor cores (start-up {startup:.0f} s apart)")
    print(f"scale-cold duckdb_s={t_d[0]:.1f} spark_s={t_s[0]:.1f} ratio={t_s[0] / t_d[0]:.2f} (pass 1; {load()})")
    print(f"scale duckdb_s={t_d[-1]:.1f} spark_s={t_s[-1]:.1f} ratio={t_s[-1] / t_d[-1]:.2f} rows={args.rows}")


if __name__ == "__main__":
    main()

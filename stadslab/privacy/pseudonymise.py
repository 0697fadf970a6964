"""The pseudonymisation kit a source holder runs on its own machine, offline.

``pseudonymise_file`` reads a CSV, XLSX or Parquet file, checks and normalises the BSN column(s)
(bsn.py), replaces every BSN by its keyed pseudonym (keys.py), drops or coarsens other direct
identifiers, and writes:

- the **output** (CSV or Parquet, by extension), the only file that goes to the data lab. The BSN
  column is replaced *in place* by ``pseudo_id`` (32 lowercase hex characters; see keys.py). Extra
  BSN columns (``bsn_ouder``, ``bsn_partner``) become ``pseudo_id_ouder``, ``pseudo_id_partner``;
  in those an empty cell stays empty. A CSV output is UTF-8, comma-separated, with a header;
- the **rejects file** (``rij, kolom, reden, waarde``): rows with an invalid BSN, not in the output.
  It holds the rejected values and **stays with the source holder**. Default: next to the input,
  ``<input>.afgekeurd.csv``. ``rij`` is the line in a CSV file (header = line 1; exact when the file
  has no blank lines or line breaks inside values), the row in the sheet for XLSX, the record
  number (from 1) for Parquet;
- the **receipt** (JSON, no BSN): tool version, input name + sha256, rows in/out/rejected, key_id,
  output sha256, columns dropped and coarsened, start and end. Default: ``<output>.receipt.json``.

Coarsening rules (``coarsen={column: rule}``); the column is replaced in place and renamed so that
nobody downstream mistakes it for the original:

    pc4        postcode "3511 AB" → "3511"                          → <col>_pc4
    year       date of birth → birth year                           → <col>_jaar
    ageband5   date of birth → age at ``reference_date`` in 5-year bands "0-4" … "85-89", "90+"
                                                                    → <col>_leeftijdsklasse5
    ageband10  idem, 10-year bands "0-9" … "80-89", "90+"           → <col>_leeftijdsklasse10
    buurt      postcode (+ house number) → CBS buurt code through a lookup table the holder supplies
               (``buurt_lookup``: CSV/Parquet with ``postcode``, ``buurt_code`` and optionally
               ``huisnummer``; give ``huisnummer_column`` to join on both). Without a lookup this
               rule is refused: the kit ships no address register.  → <col>_buurtcode

Dates are read as yyyy-mm-dd, dd-mm-yyyy, dd/mm/yyyy, dd.mm.yyyy or yyyymmdd (or native dates);
values that cannot be read become empty and are counted in the receipt. As a last guard, every
column left in the output is sampled for BSN-like values; the kit refuses to write a file where one
looks like a BSN column (``RawBSNDetected``).
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stadslab import __version__
from stadslab.errors import PrivacyError, RawBSNDetected, ReaderError
from stadslab.privacy import bsn as B
from stadslab.privacy.keys import ALGORITHM, HashPool, Key, hex_pseudonyms, load_key
from stadslab.privacy.tabular import HashingWriter, TableSource, file_sha256, open_source, output_format  # noqa: F401 (re-exported)

RULES = {"pc4": "_pc4", "year": "_jaar", "ageband5": "_leeftijdsklasse5", "ageband10": "_leeftijdsklasse10",
         "buurt": "_buurtcode"}
IDENTIFYING_NAMES = ("naam", "voorletter", "tussenvoegsel", "adres", "straat", "huisnummer", "huisletter",
                     "telefoon", "email", "e-mail", "iban", "rekeningnummer", "geboortedatum", "postcode",
                     "bsn", "sofinummer", "a-nummer", "kenteken")
REJECTS_NOTE = ("Het afkeurbestand bevat de afgekeurde waarden (mogelijk echte nummers met een tikfout) en "
                "blijft bij de bronhouder: het gaat niet mee naar het datalab.")
PARALLEL_FROM_BYTES = 16 << 20   # below this, worker start-up costs more than it saves


@dataclass
class _Col:
    source: str
    out: str
    primary: bool


@dataclass
class _Stats:
    rows_in: int = 0
    rows_out: int = 0
    rejected: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    unparsed: dict[str, int] = field(default_factory=dict)


def pseudonym_name(column: str, pseudo_column: str, primary: bool) -> str:
    if primary:
        return pseudo_column
    suffix = column.lower()
    for prefix in ("bsn_", "bsn"):
        if suffix.startswith(prefix) and len(suffix) > len(prefix):
            suffix = suffix[len(prefix):]
            break
    return f"{pseudo_column}_{suffix}"


def parse_coarsen(spec: str | dict[str, str] | None) -> dict[str, str]:
    """``"geboortedatum:year,postcode:pc4"`` or a dict → dict; checks the rule names."""
    if not spec:
        return {}
    if isinstance(spec, str):
        pairs = [p.split(":", 1) for p in spec.split(",") if p.strip()]
        if any(len(p) != 2 for p in pairs):
            raise PrivacyError(f"ongeldige --coarsen '{spec}'", hint="vorm: kolom:regel,kolom:regel")
        spec = {c.strip(): r.strip() for c, r in pairs}
    for col, rule in spec.items():
        if rule not in RULES:
            raise PrivacyError(f"onbekende grofmaakregel '{rule}' voor kolom '{col}'",
                               hint=f"kies uit: {', '.join(RULES)}")
    return dict(spec)


# --------------------------------------------------------------------------- coarsening

def parse_dates(values: pa.Array) -> pa.Array:
    """Dates from native date/timestamp columns or from text in the usual Dutch and ISO forms."""
    t = values.type
    if pa.types.is_date(t):
        return values.cast(pa.date32())
    if pa.types.is_timestamp(t):
        return values.cast(pa.date32())
    s = pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(values.cast(pa.string())), 0, 10)
    out = pc.strptime(s, format="%Y-%m-%d", unit="s", error_is_null=True)
    for fmt in ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y%m%d", "%Y/%m/%d"):
        todo = pc.and_(pc.is_null(out), pc.greater(pc.utf8_length(s), 0))
        if not pc.any(todo).as_py():
            break
        out = pc.coalesce(out, pc.strptime(s, format=fmt, unit="s", error_is_null=True))
    return out.cast(pa.date32())


def age_bands(birth: pa.Array, reference: date, width: int) -> pa.Array:
    """Age in whole years at ``reference`` (birthday not yet reached → one less), in bands of
    ``width`` years, capped at "90+". Births after ``reference`` become null."""
    y = pc.year(birth).to_numpy(zero_copy_only=False)
    m = pc.month(birth).to_numpy(zero_copy_only=False)
    d = pc.day(birth).to_numpy(zero_copy_only=False)
    missing = np.isnan(y.astype(float))
    y, m, d = (np.nan_to_num(a.astype(float)).astype(np.int64) for a in (y, m, d))
    not_yet = (m > reference.month) | ((m == reference.month) & (d > reference.day))
    age = reference.year - y - not_yet
    missing |= age < 0
    top = 90 // width
    labels = [f"{i * width}-{i * width + width - 1}" for i in range(top)] + ["90+"]
    idx = np.minimum(np.maximum(age, 0) // width, top)
    return pc.take(pa.array(labels), pa.array(idx, mask=missing))


def coarsen_column(values: pa.Array, rule: str, *, reference: date,
                   lookup: dict[str, Any] | None = None, housenumbers: pa.Array | None = None) -> pa.Array:
    if rule == "pc4":
        s = pc.utf8_upper(pc.replace_substring(values.cast(pa.string()), " ", ""))
        ok = pc.match_substring_regex(s, r"^[1-9][0-9]{3}([A-Z]{2})?$")
        return pc.if_else(ok, pc.utf8_slice_codeunits(s, 0, 4), pa.scalar(None, pa.string()))
    if rule == "year":
        return pc.year(parse_dates(values)).cast(pa.int32())
    if rule in ("ageband5", "ageband10"):
        return age_bands(parse_dates(values), reference, 5 if rule == "ageband5" else 10)
    if rule == "buurt":
        if lookup is None:
            raise PrivacyError("grofmaakregel 'buurt' vraagt een opzoektabel (buurt_lookup / --buurt-lookup)")
        key = pc.utf8_upper(pc.replace_substring(values.cast(pa.string()), " ", ""))
        if lookup["by_number"]:
            if housenumbers is None:
                raise PrivacyError("de buurt-opzoektabel heeft 'huisnummer'; geef ook huisnummer_column op")
            key = pc.binary_join_element_wise(key, pc.utf8_trim_whitespace(housenumbers.cast(pa.string())), "|")
        return pc.take(lookup["codes"], pc.index_in(key, value_set=lookup["keys"]))
    raise PrivacyError(f"onbekende grofmaakregel '{rule}'")


def load_buurt_lookup(path: str | Path | pa.Table) -> dict[str, Any]:
    table = path if isinstance(path, pa.Table) else open_source(Path(path)).read_all()
    names = {c.lower(): c for c in table.column_names}
    if "postcode" not in names or "buurt_code" not in names:
        raise ReaderError("opzoektabel mist kolom 'postcode' of 'buurt_code'", file=str(path),
                          expected="postcode, buurt_code [, huisnummer]")
    key = pc.utf8_upper(pc.replace_substring(table[names["postcode"]].cast(pa.string()), " ", ""))
    by_number = "huisnummer" in names
    if by_number:
        key = pc.binary_join_element_wise(key, pc.utf8_trim_whitespace(table[names["huisnummer"]].cast(pa.string())), "|")
    return {"keys": key.combine_chunks(), "codes": table[names["buurt_code"]].cast(pa.string()).combine_chunks(),
            "by_number": by_number}


# --------------------------------------------------------------------------- the kit

def _find_column(name: str, columns: list[str], file: Path) -> str:
    if name in columns:
        return name
    hits = [c for c in columns if c.strip().lower() == name.strip().lower()]
    if len(hits) == 1:
        return hits[0]
    raise ReaderError(f"kolom '{name}' niet gevonden", file=str(file), column=name,
                      expected=", ".join(columns))


def _guard_no_bsn(batch: pa.RecordBatch, skip: set[str], file: Path) -> None:
    """Refuse output where a column still looks like BSNs (sampled: 2000 values per column)."""
    for name in batch.schema.names:
        if name in skip:
            continue
        col = batch.column(name).slice(0, 2000)
        t = col.type
        if not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t)):
            continue
        chk = B.check_bsn_array(col)
        shaped = int(np.isin(chk.reason, (B.OK, B.ELFPROEF, B.ZERO)).sum())
        if shaped >= 20 and (chk.reason == B.OK).sum() > 0.5 * shaped:
            raise RawBSNDetected(f"bestand {file}, kolom '{name}': de waarden lijken BSN's; "
                                 "de uitvoer is niet geschreven",
                                 hint=f"geef de kolom op als BSN-kolom (--bsn-column {name}) of laat hem weg (--drop {name})")


def _identifier_warnings(columns: list[str], drop: set[str], coarsened: set[str], bsn_cols: set[str]) -> list[str]:
    out = []
    for c in columns:
        if c in drop or c in coarsened or c in bsn_cols:
            continue
        low = c.lower()
        if any(tok in low for tok in IDENTIFYING_NAMES):
            out.append(f"kolom '{c}' lijkt een direct identificerend gegeven en gaat ongewijzigd mee; "
                       f"overweeg --drop {c} of --coarsen {c}:<regel>")
    return out


def pseudonymise_file(input: str | Path, output: str | Path, *, bsn_column: str | Sequence[str],
                      key: Key | str | Path, drop: Sequence[str] = (), coarsen: dict[str, str] | str | None = None,
                      rejects_path: str | Path | None = None, receipt_path: str | Path | None = None,
                      pseudo_column: str = "pseudo_id", reference_date: date | None = None,
                      buurt_lookup: str | Path | pa.Table | None = None, huisnummer_column: str | None = None,
                      min_digits: int = 8, sheet: str | None = None, workers: int | None = None,
                      progress: Callable[[int, int | None], None] | None = None) -> dict[str, Any]:
    """Pseudonymise one file; returns the receipt (also written to ``receipt_path``).

    ``workers``: hashing processes; default 2 for files above 16 MB, else 0 (in this process).
    """
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    input, output = Path(input), Path(output)
    key = key if isinstance(key, Key) else load_key(key, kind="source")
    if key.kind != "source":
        raise PrivacyError(f"pseudonimiseren vraagt een bronsleutel; dit is een {key.kind}-sleutel")
    out_fmt = output_format(output)
    if output.resolve() == input.resolve():
        raise PrivacyError("uitvoer en invoer zijn hetzelfde bestand", hint="kies een ander uitvoerbestand")
    rejects_path = Path(rejects_path) if rejects_path else input.with_name(input.stem + ".afgekeurd.csv")
    receipt_path = Path(receipt_path) if receipt_path else output.with_name(output.name + ".receipt.json")
    rules = parse_coarsen(coarsen)
    reference = reference_date or started.date()
    src = open_source(input, sheet=sheet)
    columns = src.columns
    names = [bsn_column] if isinstance(bsn_column, str) else list(bsn_column)
    if not names:
        raise PrivacyError("geen BSN-kolom opgegeven", hint="--bsn-column KOLOM")
    bsn_cols = [_Col(c, "", i == 0) for i, c in enumerate(_find_column(n, columns, input) for n in names)]
    for c in bsn_cols:
        c.out = pseudonym_name(c.source, pseudo_column, c.primary)
    drop_cols = {_find_column(d, columns, input) for d in drop}
    rules = {_find_column(c, columns, input): r for c, r in rules.items()}
    taken = {c.source for c in bsn_cols}
    clash = (drop_cols | set(rules)) & taken
    if clash:
        raise PrivacyError(f"kolom {sorted(clash)} is BSN-kolom én weglaten/grofmaken", hint="kies één van beide")
    lookup = load_buurt_lookup(buurt_lookup) if "buurt" in rules.values() and buurt_lookup is not None else None
    if "buurt" in rules.values() and lookup is None:
        raise PrivacyError("grofmaakregel 'buurt' vraagt een opzoektabel", hint="--buurt-lookup BESTAND (postcode, buurt_code)")
    hn_col = _find_column(huisnummer_column, columns, input) if huisnummer_column else None
    warnings = _identifier_warnings(columns, drop_cols, set(rules), taken)
    if workers is None:
        workers = 2 if input.stat().st_size >= PARALLEL_FROM_BYTES else 0
    stats = _Stats(unparsed={c: 0 for c in rules})
    out_names = {c.source: c.out for c in bsn_cols} | {c: c + RULES[r] for c, r in rules.items()}
    final = [out_names.get(c, c) for c in columns if c not in drop_cols]
    twice = sorted({n for n in final if final.count(n) > 1})
    if twice:
        raise PrivacyError(f"de uitvoer zou kolom {', '.join(twice)} twee keer krijgen",
                           hint="hernoem of laat de bestaande kolom weg (--drop), of kies --pseudo-column")
    tmp_out = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    tmp_rej = rejects_path.with_name(f".{rejects_path.name}.{os.getpid()}.tmp")
    hasher = ThreadPoolExecutor(1)
    sha_in = hasher.submit(file_sha256, input)   # in parallel: hashlib releases the GIL on big reads
    rejects_writer = _RejectsWriter(tmp_rej)
    sink: HashingWriter | None = None
    try:
        with HashPool(key.secret, workers) as pool:
            sink = HashingWriter(tmp_out, out_fmt)
            pending: deque = deque()
            for batch, rows in src.batches():
                job = _prepare(batch, rows, bsn_cols, drop_cols, rules, reference, lookup, hn_col,
                               min_digits, stats, rejects_writer)
                job["futures"] = [pool.submit(m, 9) for m in job["messages"]]
                pending.append(job)
                while len(pending) > 2:
                    _finish(pending.popleft(), sink, out_names, input, stats, progress, src)
            while pending:
                _finish(pending.popleft(), sink, out_names, input, stats, progress, src)
            if sink.schema is None:
                sink.write_empty(_empty_schema(columns, drop_cols, out_names, bsn_cols, rules))
        sink.close()
        rejects_writer.close()
    except BaseException:
        if sink is not None:
            sink.abort()
        rejects_writer.abort()
        tmp_out.unlink(missing_ok=True)
        tmp_rej.unlink(missing_ok=True)
        raise
    finally:
        hasher.shutdown(wait=False)
    os.replace(tmp_out, output)
    if stats.rejected:
        os.replace(tmp_rej, rejects_path)
    else:
        tmp_rej.unlink(missing_ok=True)
    finished = datetime.now(timezone.utc)
    receipt = {
        "format": "stadslab-receipt/1",
        "tool": "stadslab source pseudonymise", "tool_version": __version__,
        "input": {"file": input.name, "sha256": sha_in.result(), "bytes": input.stat().st_size,
                  "format": src.format, **src.options},
        "output": {"file": output.name, "sha256": sink.sha256, "bytes": sink.bytes, "format": out_fmt,
                   "columns": sink.schema.names if sink.schema else []},
        "rows": {"in": stats.rows_in, "out": stats.rows_out, "rejected": stats.rejected},
        "rejects": {"count": stats.rejected, "by_reason": stats.by_reason,
                    "file": rejects_path.name if stats.rejected else None, "note": REJECTS_NOTE},
        "key_id": key.key_id, "algorithm": ALGORITHM,
        "pseudonyms": {c.source: c.out for c in bsn_cols},
        "pseudonym_encoding": "32 hexadecimale tekens: HMAC-SHA256 van het 9-cijferige BSN, ingekort tot 128 bits",
        "columns_dropped": sorted(drop_cols),
        "columns_coarsened": {c: {"rule": r, "output_column": out_names[c], "unreadable_values": stats.unparsed[c]}
                              for c, r in rules.items()},
        "reference_date": reference.isoformat() if any(r.startswith("ageband") for r in rules.values()) else None,
        "warnings": warnings,
        "simulated": any(c.lower() == "gesimuleerd" for c in columns),
        "workers": workers,
        "started": started.isoformat(timespec="seconds"), "finished": finished.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    receipt_path.parent.mkdir(parents=True, exist_ok=True)
    receipt_path.write_text(json.dumps(receipt, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    receipt["receipt_file"] = str(receipt_path)
    return receipt


def _prepare(batch: pa.RecordBatch, rows: np.ndarray, bsn_cols: list[_Col], drop_cols: set[str],
             rules: dict[str, str], reference: date, lookup: dict | None, hn_col: str | None,
             min_digits: int, stats: _Stats, rejects: "_RejectsWriter") -> dict[str, Any]:
    """Validate BSNs, write rejects, filter, coarsen; return the messages to hash."""
    n = batch.num_rows
    stats.rows_in += n
    keep = np.ones(n, dtype=bool)
    checks = []
    for col in bsn_cols:
        chk = B.check_bsn_array(batch.column(col.source), min_digits=min_digits)
        bad = chk.reason != B.OK
        if not col.primary:
            bad &= chk.reason != B.EMPTY      # an empty partner/parent BSN is allowed
        if bad.any():
            idx = np.flatnonzero(bad & keep)  # one reject line per row: the first failing column
            if len(idx):
                rejects.add(rows[idx], col.source, chk.reason[idx], batch.column(col.source).take(pa.array(idx)), stats)
            keep &= ~bad
        checks.append(chk)
    stats.rejected += int((~keep).sum())
    if not keep.all():
        mask = pa.array(keep)
        batch = batch.filter(mask)
        checks = [B.BsnCheck(c.digits[keep], c.reason[keep]) for c in checks]
    messages, valid = [], []
    for chk in checks:
        v = chk.valid
        valid.append(v)
        messages.append(chk.digits[v].tobytes() if not v.all() else chk.digits.tobytes())
    coarse = {}
    for col, rule in rules.items():
        values = batch.column(col)
        res = coarsen_column(values, rule, reference=reference, lookup=lookup,
                             housenumbers=batch.column(hn_col) if hn_col else None)
        lost = pc.is_null(res)
        if pa.types.is_string(values.type):   # an empty cell is not a value that could not be read
            lost = pc.and_(lost, pc.not_equal(pc.utf8_trim_whitespace(values), ""))
        stats.unparsed[col] += int(pc.sum(lost).as_py() or 0)
        coarse[col] = res
    return {"batch": batch, "valid": valid, "messages": messages, "coarse": coarse, "drop": drop_cols,
            "bsn_cols": bsn_cols}


def _finish(job: dict[str, Any], sink: HashingWriter, out_names: dict[str, str], file: Path,
            stats: _Stats, progress: Callable | None, src: TableSource) -> None:
    batch: pa.RecordBatch = job["batch"]
    pseudo = {col.source: hex_pseudonyms(HashPool.collect(futs), valid)
              for col, futs, valid in zip(job["bsn_cols"], job["futures"], job["valid"])}
    arrays, names = [], []
    for name in batch.schema.names:
        if name in job["drop"]:
            continue
        arrays.append(pseudo.get(name, job["coarse"].get(name, batch.column(name))))
        names.append(out_names.get(name, name))
    out = pa.RecordBatch.from_arrays(arrays, names=names)
    _guard_no_bsn(out, set(out_names.values()), file)
    sink.write(out)
    stats.rows_out += out.num_rows
    if progress:
        progress(stats.rows_in, src.estimated_rows)


def _empty_schema(columns: list[str], drop: set[str], out_names: dict[str, str], bsn_cols: list[_Col],
                  rules: dict[str, str]) -> pa.Schema:
    fields = []
    for c in columns:
        if c in drop:
            continue
        typ = pa.int32() if rules.get(c) == "year" else pa.string()
        fields.append(pa.field(out_names.get(c, c), typ))
    return pa.schema(fields)


class _RejectsWriter:
    """Rejected rows as CSV (rij, kolom, reden, waarde); opened only when the first reject comes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = None

    def add(self, rows: np.ndarray, column: str, reasons: np.ndarray, raw: pa.Array, stats: _Stats) -> None:
        import csv

        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "w", encoding="utf-8", newline="")
            self._csv = csv.writer(self._fh)
            self._csv.writerow(["rij", "kolom", "reden", "waarde"])
        texts = raw.cast(pa.string()).to_pylist() if not pa.types.is_null(raw.type) else [None] * len(rows)
        for r, code, value in zip(rows.tolist(), reasons.tolist(), texts):   # rejects are few
            reason = B.REASONS[code]
            stats.by_reason[reason] = stats.by_reason.get(reason, 0) + 1
            self._csv.writerow([r, column, reason, "" if value is None else value])

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()

    def abort(self) -> None:
        self.close()

"""Readers: one source file → one TEMP table (see ``base.py`` for the contract).

Importing this package registers every built-in reader:

- ``csv``          .csv .tsv .txt (+ .gz) — text columns, ``__row`` = line in the file
- ``spreadsheet``  .xlsx .xlsm .xls .ods — text columns, ``__row`` = row in the sheet
- ``geo``          .geojson .gpkg .shp .zip — native types + ``__geom``, ``ReadResult.crs``
- ``parquet``      .parquet — native types
- ``json``         .json .jsonl .ndjson — records, native types

Call ``reader_for(path, name).read(con, path, options, table)``.
"""

from stadslab.ingest.readers import columnar, csv, geo, spreadsheet  # noqa: F401  (registration)
from stadslab.ingest.readers.base import (GEOM_COLUMN, ROW_COLUMN, ReaderInfo, ReadResult, reader_for,
                                          readers, register_reader)

__all__ = ["GEOM_COLUMN", "ROW_COLUMN", "ReadResult", "ReaderInfo", "reader_for", "readers", "register_reader"]

"""Fixtures for the reader tests: messy files written in code, and the real demo files when present."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import xlsxwriter

from stadslab.warehouse.connection import connect

REPO = Path(__file__).resolve().parents[2]
DATA_ROOTS = (REPO / "data" / "demo", Path("/work/shared/data"))


def real_file(rel: str) -> Path:
    """A real data file from the vendored demo data (or the shared read-only copy); skip when absent."""
    for root in DATA_ROOTS:
        if (root / rel).is_file():
            return root / rel
    pytest.skip(f"demo file {rel} not available")


@pytest.fixture(scope="module")
def con():
    """One connection per test module (loading spatial takes a while); every read replaces table 't'."""
    c = connect()
    yield c
    c.close()


@pytest.fixture(scope="session")
def messy_xlsx(tmp_path_factory) -> Path:
    """A CBS-like sheet starting at B2: 2 title rows, a 2-row header with 'Bevolking' merged over
    'Mannen'/'Vrouwen' and 'Wijk' merged down, data with a blank row, a blank row and 2 footnotes."""
    path = tmp_path_factory.mktemp("xlsx") / "messy.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    cover = wb.add_worksheet("Toelichting")
    cover.write("A1", "Deze tabel komt van het CBS.")
    ws = wb.add_worksheet("Tabel")
    centre, dfmt = wb.add_format({"align": "center"}), wb.add_format({"num_format": "dd-mm-yyyy"})
    ws.write("B2", "Bevolking per wijk, 2024")
    ws.write("B3", "Gemeente Voorbeeld")
    ws.merge_range("B4:B5", "Wijk", centre)
    ws.merge_range("C4:D4", "Bevolking", centre)
    ws.write("C5", "Mannen")
    ws.write("D5", "Vrouwen")
    ws.write("E4", "Peildatum")
    ws.write("F4", "Opp")
    ws.write("F5", "ha")
    rows = [("Wijk 01 West", 14320, 15385.0, dt.date(2024, 1, 1), 12.5),
            ("Wijk 02 Noordwest", ".", 21000, dt.date(2024, 1, 1), 1e15),
            ("Wijk 03 Overvecht", 16000, 17000, dt.datetime(2024, 1, 1, 13, 45, 0), None)]
    for r, row in enumerate(rows, start=5):             # sheet rows 6-8
        for j, v in enumerate(row, start=1):
            if isinstance(v, (dt.date, dt.datetime)):
                ws.write_datetime(r, j, v, dfmt)
            elif v is not None:
                ws.write(r, j, v)
    ws.write_row(9, 1, ["Wijk 04 Oost", 1, 2])          # sheet row 10, after blank row 9
    ws.write_boolean(9, 5, True)
    ws.write("B12", "Bron: CBS, bewerking gemeente")     # after blank row 11
    ws.write("B13", ". = geheim")
    wb.close()
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is not None:
                    ws.write(r, j, v)
    wb.close()
    return path


_ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
           'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
           'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')


def _ods_cell(v, span: int = 1) -> str:
    extra = f' table:number-columns-spanned="{span}"' if span > 1 else ""
    if v is None:
        return "<table:table-cell/>"
    if isinstance(v, (int, float)):
        kind = f'office:value-type="float" office:value="{v}"'
    elif isinstance(v, dt.date):
        kind = f'office:value-type="date" office:date-value="{v.isoformat()}"'
    else:
        kind = 'office:value-type="string"'
    return f"<table:table-cell {kind}{extra}><text:p>{escape(str(v))}</text:p></table:table-cell>"


def write_ods(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A minimal OpenDocument spreadsheet (no odfpy needed). A cell given as (value, n) spans n columns."""
    body = ""
    for name, rows in sheets.items():
        body += f'<table:table table:name="{escape(name)}">'
        for row in rows:
            cells = ""
            for v in row:
                v, span = v if isinstance(v, tuple) else (v, 1)
                cells += _ods_cell(v, span) + "<table:covered-table-cell/>" * (span - 1)
            body += f"<table:table-row>{cells}</table:table-row>"
        body += "</table:table>"
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS} office:version="1.2">'
               f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def write_geojson(path: Path, coords: list[tuple[float, float]], crs: str | None = None) -> Path:
    """Point features with a 'naam' attribute; ``crs`` adds the legacy GeoJSON 'crs' member."""
    doc: dict = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"naam": f"punt {i}", "nr": i},
         "geometry": {"type": "Point", "coordinates": list(c)}} for i, c in enumerate(coords, start=1)]}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc))
    return path


# Test modules are imported with --import-mode=importlib, so they get the helpers through fixtures.
@pytest.fixture
def real():
    return real_file


@pytest.fixture
def xlsx_writer():
    return write_xlsx


@pytest.fixture
def ods_writer():
    return write_ods


@pytest.fixture
def geojson_writer():
    return write_geojson

"""Shared metadata mappings for the portal: licences, themes, frequencies, formats, URLs, organisations.

The catalog stores licences and themes as free Dutch text; harvesters want identifiers. Licences map
to SPDX-like CKAN ids and, for DCAT-AP-NL, to the EU licence authority list where it has the licence
(else the Creative Commons URL); themes map to the EU data-theme list that DCAT-AP-NL 3.0 prescribes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stadslab.portal.registry import Item, Version

EU = "http://publications.europa.eu/resource/authority/"


@dataclass(frozen=True)
class Licence:
    id: str            # CKAN license_id
    title: str
    url: str | None    # human-readable licence text
    uri: str | None    # DCAT: EU authority URI or the canonical URL
    open: bool
    text: str          # as the catalog says it


_LICENCES = [
    (r"\bcc0\b|public domain", Licence("CC0-1.0", "Creative Commons CCZero 1.0",
                                       "https://creativecommons.org/publicdomain/zero/1.0/", EU + "licence/CC0", True, "")),
    (r"cc[ -]?by[ -]?sa[ -]?3\.0[ -]?nl", Licence("CC-BY-SA-3.0-NL", "Creative Commons Naamsvermelding-GelijkDelen 3.0 Nederland",
                                                  "https://creativecommons.org/licenses/by-sa/3.0/nl/",
                                                  "https://creativecommons.org/licenses/by-sa/3.0/nl/", True, "")),
    (r"cc[ -]?by[ -]?sa[ -]?4\.0", Licence("CC-BY-SA-4.0", "Creative Commons Naamsvermelding-GelijkDelen 4.0",
                                           "https://creativecommons.org/licenses/by-sa/4.0/", EU + "licence/CC_BYSA_4_0", True, "")),
    (r"cc[ -]?by[ -]?3\.0[ -]?nl", Licence("CC-BY-3.0-NL", "Creative Commons Naamsvermelding 3.0 Nederland",
                                           "https://creativecommons.org/licenses/by/3.0/nl/",
                                           "https://creativecommons.org/licenses/by/3.0/nl/", True, "")),
    (r"cc[ -]?by[ -]?4\.0", Licence("CC-BY-4.0", "Creative Commons Naamsvermelding 4.0",
                                    "https://creativecommons.org/licenses/by/4.0/", EU + "licence/CC_BY_4_0", True, "")),
]


def licence(text: str | None) -> Licence:
    """The first known licence named in the catalog's text; else 'notspecified' with the text kept."""
    raw = (text or "").strip()
    low = raw.lower()
    # the licence named first is the data's ("CC BY 4.0 (... secundaire bronnen noemen ook CC0)")
    found = [(m.start(), lic) for pattern, lic in _LICENCES if (m := re.search(pattern, low))]
    if found:
        lic = min(found, key=lambda f: f[0])[1]
        return Licence(lic.id, lic.title, lic.url, lic.uri, lic.open, raw)
    return Licence("notspecified", "Licentie niet opgegeven", None, None, False, raw or "onbekend")


# catalog theme (Dutch, free text) → EU data theme code
_THEMES = {"veiligheid": "JUST", "sociaal domein": "SOCI", "sociaal_domein": "SOCI", "bevolking": "SOCI",
           "geografie": "REGI", "gebiedsindeling": "REGI", "mobiliteit": "TRAN", "verkeer": "TRAN",
           "afval": "ENVI", "milieu": "ENVI", "openbare_ruimte": "REGI", "openbare ruimte": "REGI",
           "voorzieningen": "SOCI", "gezondheid": "HEAL", "onderwijs": "EDUC", "economie": "ECON",
           "energie": "ENER", "cultuur": "EDUC", "bestuur": "GOVE"}
THEME_LABELS = {"JUST": "Justitie, rechtsstelsel en openbare veiligheid", "SOCI": "Bevolking en samenleving",
                "REGI": "Regio's en steden", "TRAN": "Vervoer", "ENVI": "Milieu", "HEAL": "Gezondheid",
                "EDUC": "Onderwijs, cultuur en sport", "ECON": "Economie en financiën", "ENER": "Energie",
                "GOVE": "Overheid en publieke sector"}


def eu_theme(theme: str | None) -> str:
    return EU + "data-theme/" + _THEMES.get((theme or "").strip().lower(), "GOVE")


_FREQ = {"realtime": "CONT", "dagelijks": "DAILY", "wekelijks": "WEEKLY", "tweewekelijks": "BIWEEKLY",
         "maandelijks": "MONTHLY", "kwartaal": "QUARTERLY", "jaarlijks": "ANNUAL", "eenmalig": "NEVER",
         "onregelmatig": "IRREG"}


def eu_frequency(freq: str | None) -> str | None:
    return EU + "frequency/" + _FREQ[freq] if freq in _FREQ else None


@dataclass(frozen=True)
class Format:
    ext: str
    name: str          # CKAN format
    media_type: str
    eu: str            # EU file-type code
    label: str         # Dutch, for pages


FORMATS = {
    "csv": Format("csv", "CSV", "text/csv", "CSV", "CSV (komma-gescheiden, UTF-8)"),
    "json": Format("json", "JSON", "application/json", "JSON", "JSON (lijst van records)"),
    "geojson": Format("geojson", "GeoJSON", "application/geo+json", "GEOJSON", "GeoJSON (WGS84)"),
    "parquet": Format("parquet", "Parquet", "application/vnd.apache.parquet", "PARQUET", "Parquet"),
    "xlsx": Format("xlsx", "XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX",
                   "Excel (XLSX)"),
}
EXCEL_MAX_ROWS = 1_048_575


def formats_of(item: Item, version: Version | None = None) -> list[Format]:
    out = [FORMATS["csv"], FORMATS["json"]]
    if item.geo:
        out.append(FORMATS["geojson"])
    out.append(FORMATS["parquet"])
    rows = (version or item.latest).rows
    if rows is None or rows <= EXCEL_MAX_ROWS:
        out.append(FORMATS["xlsx"])
    return out


def download_path(item_id: str, version: int | str, ext: str) -> str:
    """Stable URL path of a download: ``/open/download/<id>/v<n>/<id>-v<n>.<ext>``, or the ``latest`` alias."""
    if version == "latest":
        return f"/open/download/{item_id}/latest/{item_id}.{ext}"
    return f"/open/download/{item_id}/v{version}/{item_id}-v{version}.{ext}"


def slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:100] or "onbekend"


def organisation(item: Item) -> dict[str, str]:
    return {"name": slug(item.owner), "title": item.owner}

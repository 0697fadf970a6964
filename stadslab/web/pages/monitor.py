"""Gebiedsmonitor: gemeente → wijk → buurt by clicking the map (or the table), CBS Kerncijfers per area."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from stadslab.web.data import areas as area_data
from stadslab.web.data import compare
from stadslab.web.data import monitor as mon
from stadslab.web.data.catalog_view import municipality
from stadslab.web.data.provenance import bron
from stadslab.web.templating import render

router = APIRouter(include_in_schema=False)

METHOD = ("CBS Kerncijfers wijken en buurten. Score = de CBS-waarde, of per 1.000 inwoners/huishoudens voor "
          "aantallen. z-score = (score − stadswaarde) / standaardafwijking van alle gebieden van hetzelfde niveau "
          "in de gemeente (voor aantallen: t.o.v. het gemiddelde van die gebieden). Verschil = score min de score "
          "van het jaar ervoor. Niet door CBS gepubliceerde waarden zijn leeg, nooit nul. CBS rondt aantallen "
          "onder gemeenteniveau af op vijftallen.")


def monitor_context(request: Request, gebied: str | None, jaar: int | None, indicator: str | None,
                    ref: list[str] | None = None) -> dict:
    state = request.app.state.stadslab
    gm = municipality(state)
    code = gebied or gm["gemeente_code"]
    year = jaar or compare.default_year(state, gm["gemeente_code"])  # the most complete year, not the newest
    if year is None:
        return {"leeg": True}
    area = area_data.area(state, gm["indeling"], code)
    data = mon.profile(state, gm["gemeente_code"], code, year)
    siblings = area.level == "buurt" and bool(area.parent_code)
    if siblings:  # a buurt has no sub-areas: show it among the buurten of its wijk
        data = {**data, "kinderen": mon.profile(state, gm["gemeente_code"], area.parent_code, year)["kinderen"],
                "kind_niveau": "buurt"}
    per_year = compare.indicator_years(state, gm["gemeente_code"])
    # an indicator CBS published in no year at all is not offered (the page does not promise what it lacks)
    never = [i for i in data["indicatoren"] if not per_year.get(i["veld"])]
    data = {**data, "indicatoren": [i for i in data["indicatoren"] if per_year.get(i["veld"])],
            "profiel": [r for r in data["profiel"] if per_year.get(r["veld"])]}
    inds = [i["veld"] for i in data["indicatoren"]]
    chosen = indicator if indicator in inds else "a_inw"
    sources = [(data["dataset"], None)] + ([(data["vorige_dataset"], None)] if data["vorige_dataset"] else [])
    block = bron(state, sources + area_data.sources(state, gm["indeling"]), method=METHOD,
                 filters={"gebied": code, "jaar": year})
    return {"leeg": False, "gebied": area, "pad": area_data.trail(state, gm["indeling"], code), "data": data,
            "indicator": chosen, "bron": block, "jaar": year, "broers": siblings,
            "jaren_per_indicator": per_year, "nooit": never, "dekking": compare.year_coverage(state, gm["gemeente_code"]),
            "referenties": [r for r in (ref or []) if r != code][:5],
            "gebieden": _area_choices(state, gm, area.level),
            "bbox": area_data.bbox(state, gm["indeling"], area.parent_code if siblings else code),
            "groepen": sorted({i["groep"] for i in data["indicatoren"]}, key=[i["groep"] for i in
                                                                               data["indicatoren"]].index)}


def _area_choices(state, gm: dict, level: str) -> list[dict]:
    """Areas of the same level to compare with (reference areas)."""
    if level == "gemeente":
        return []
    return [{"code": a.code, "naam": a.name} for a in
            area_data.level_areas(state, gm["indeling"], level, gm["gemeente_code"])]


@router.get("/monitor", response_class=HTMLResponse)
def monitor_page(request: Request, gebied: str | None = None, jaar: int | None = None, indicator: str | None = None,
                 ref: list[str] = Query([])):
    return render(request, "monitor.html", monitor_context(request, gebied, jaar, indicator, ref))

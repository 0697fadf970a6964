"""Dataset page: description, fields, versions and counts per wijk — only for users with the right role
and purpose; the public and users without rights get 401/403 and see nothing of the contents."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from stadslab.web.data import areas as area_data
from stadslab.web.data.catalog_view import data_municipality, municipality
from stadslab.web.data.datasets import aggregate, describe, groupable
from stadslab.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/datasets/{dataset_id}", response_class=HTMLResponse)
def dataset_page(request: Request, dataset_id: str):
    state = request.app.state.stadslab
    ds = state.catalog.get(dataset_id)
    info = describe(request, ds)
    per_wijk = None
    if "wijk_code" in groupable(state, ds):
        rel, block = aggregate(request, ds, ["wijk_code"], route=f"web:/datasets/{ds.id}")
        year = ds.geography.division_year or municipality(state)["indeling"]
        names = {a.code: a.name for a in area_data.areas(state, year).values()} if year in \
            area_data.division_years(state) else {}
        rows = [{**r, "naam": names.get(r["wijk_code"], r["wijk_code"])} for r in rel.records()]
        per_wijk = {"rijen": rows, "bron": block, "gated": rel.gated}
    return render(request, "dataset.html", {"ds": info, "per_wijk": per_wijk, "gemeente": _data_gemeente(state, ds)})


def _data_gemeente(state, ds) -> dict:
    """The municipality the dataset is about (its area division holds one), for the header (issue 10, item 7)."""
    year = ds.geography.division_year
    codes = ({a.gemeente_code for a in area_data.areas(state, year).values() if a.gemeente_code}
             if year and year in area_data.division_years(state) else set())
    return data_municipality(state, codes.pop() if len(codes) == 1 else None, year)

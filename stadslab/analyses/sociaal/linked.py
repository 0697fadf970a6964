"""The linked frame of the Dynamisch Data Dashboard: one row per pupil × school year (docs/dev/DDD-CONTRACT.md).

Links the four project-pseudonymised sources of project ``ddd`` inside the lab, as an Ibis expression
(engine-neutral: DuckDB or Spark; nothing is materialised here). The household link is the parent's
pseudonym: ``ddd_verzuim.pseudo_id_ouder`` = the client/applicant pseudonym of the other sources (for
benefits also the partner). School year t = "jjjj/jj" runs from 1 August jjjj to 31 July jjjj+1.

Columns (the vocabulary of profiles and of the effect's outcome, treatment and confounders):

    pseudo_id, pseudo_id_ouder, schooljaar, buurt_code, wijk_code, gemeente_code, school, schoolsoort,
    geboortejaar, leeftijd (start year − birth year), verzuim_pct, verzuim_pct_volgend (t+1; NULL if the
    pupil is not in the data next year), verzuim_pct_huishouden (the highest absence of the household's
    pupils in t: buurtteams are often called in through a sibling), bijstand (ja/nee: a benefit month in t), zrm_<13 domains> (the
    latest assessment on or before 31 July of t; NULL = none), zrm_gemeten (ja/nee), traject (ja/nee: a
    trajectory started in t), traject_lopend (ja/nee: a trajectory running at any time in t)

The frame holds pseudonyms: it never leaves the lab. Figures from it leave only through the gate
(``release_aggregate`` and the callers built on it, helpers B and C).
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

VERZUIM, UITKERINGEN, ZRM, TRAJECTEN = "ddd_verzuim", "ddd_uitkeringen", "ddd_zrm", "ddd_trajecten"
SOURCES = (VERZUIM, UITKERINGEN, ZRM, TRAJECTEN)
DOMAINS = ("financien", "werk_opleiding", "tijdsbesteding", "huisvesting", "huiselijke_relaties",
           "geestelijke_gezondheid", "lichamelijke_gezondheid", "middelengebruik", "basale_adl",
           "instrumentele_adl", "sociaal_netwerk", "maatschappelijke_participatie", "justitie")
ZRM_COLUMNS = tuple(f"zrm_{d}" for d in DOMAINS)
COLUMNS = ("pseudo_id", "pseudo_id_ouder", "schooljaar", "buurt_code", "wijk_code", "gemeente_code", "school",
           "schoolsoort", "geboortejaar", "leeftijd", "verzuim_pct", "verzuim_pct_volgend", "verzuim_pct_huishouden",
           "bijstand",
           *ZRM_COLUMNS, "zrm_gemeten", "traject", "traject_lopend")


def linked_sources(catalog: Any, wh: Any = None) -> dict[str, int | None]:
    """The datasets the frame reads, in a fixed order: ``{dataset_id: current version}`` (versions with
    ``wh``, else None). Every id is looked up in ``catalog`` (raises if one is missing), so callers can
    check access per source with ``catalog.get(id)`` and record the versions in provenance and audit."""
    for d in SOURCES:
        catalog.get(d)
    return {d: (wh.current_version(d) if wh is not None else None) for d in SOURCES}


def _school_year_start(date_col: ir.DateValue) -> ir.IntegerValue:
    """Start year of the school year a date falls in (August or later: this year, else the year before)."""
    return date_col.year() - (date_col.month() < 8).cast("int64")


def _yes(cond: ir.BooleanValue) -> ir.StringValue:
    return ibis.ifelse(cond, "ja", "nee")


def linked_frame(wh: Any, catalog: Any, *, versions: dict[str, int | None] | None = None) -> ir.Table:
    """One row per pupil × school year with the household's benefits, ZRM and trajectories (Ibis).

    ``versions``: pin dataset versions (default: current), e.g. the dict ``linked_sources`` returned."""
    versions = versions or {}
    linked_sources(catalog)
    v = wh.table(VERZUIM, versions.get(VERZUIM))
    u = wh.table(UITKERINGEN, versions.get(UITKERINGEN))
    z = wh.table(ZRM, versions.get(ZRM))
    tr = wh.table(TRAJECTEN, versions.get(TRAJECTEN))

    base = v.select(
        "pseudo_id", "pseudo_id_ouder", "schooljaar", "buurt_code", "wijk_code", "gemeente_code", "school",
        "schoolsoort", "geboortejaar", "verzuim_pct",
        sy=v.schooljaar.substr(0, 4).cast("int64"),
        hh_max=v.verzuim_pct.max().over(group_by=[v.pseudo_id_ouder, v.schooljaar]))
    households = base.select(hh="pseudo_id_ouder", sy="sy").distinct()

    # next school year of the same pupil
    nxt = base.select(p_next="pseudo_id", sy_prev=base.sy - 1, verzuim_pct_volgend=base.verzuim_pct)

    # bijstand: any benefit month of the applicant or the partner in the school year
    months = u.select(hh=u.pseudo_id, sy=_school_year_start(u.maand))
    partners = u.filter(u.pseudo_id_partner.notnull()).select(hh=u.pseudo_id_partner, sy=_school_year_start(u.maand))
    benefit = months.union(partners, distinct=True).mutate(b_flag=ibis.literal(1))

    # ZRM: the last assessment of each household up to the end of year t (31 July)
    z_sy = z.mutate(zsy=_school_year_start(z.datum))
    hz = households.join(z_sy, (households.hh == z_sy.pseudo_id) & (z_sy.zsy <= households.sy))
    w = ibis.window(group_by=[hz.hh, hz.sy], order_by=[ibis.desc(hz.datum), *[ibis.desc(hz[c]) for c in ZRM_COLUMNS]])
    latest = (hz.mutate(rn=ibis.row_number().over(w)).filter(lambda t: t.rn == 0)
              .select("hh", "sy", *ZRM_COLUMNS, z_flag=ibis.literal(1)))

    # trajectories: started in t; running at any time in t
    started = tr.select(hh=tr.pseudo_id, sy=_school_year_start(tr.start)).distinct().mutate(t_flag=ibis.literal(1))
    ht = households.join(tr, households.hh == tr.pseudo_id)
    year_start = ibis.date(ht.sy.cast("int32"), 8, 1)
    year_end = ibis.date((ht.sy + 1).cast("int32"), 7, 31)
    running = (ht.filter((ht.start <= year_end) & (ht.einde.isnull() | (ht.einde >= year_start)))
               .select("hh", "sy").distinct().mutate(r_flag=ibis.literal(1)))

    f = base.left_join(nxt, (base.pseudo_id == nxt.p_next) & (base.sy == nxt.sy_prev))
    f = f.left_join(benefit, (f.pseudo_id_ouder == benefit.hh) & (f.sy == benefit.sy))
    f = f.left_join(latest, (f.pseudo_id_ouder == latest.hh) & (f.sy == latest.sy))
    f = f.left_join(started, (f.pseudo_id_ouder == started.hh) & (f.sy == started.sy))
    f = f.left_join(running, (f.pseudo_id_ouder == running.hh) & (f.sy == running.sy))
    return f.select(
        "pseudo_id", "pseudo_id_ouder", "schooljaar", "buurt_code", "wijk_code", "gemeente_code", "school",
        "schoolsoort",
        geboortejaar=f.geboortejaar.cast("int64"),
        leeftijd=(f.sy - f.geboortejaar).cast("int64"),
        verzuim_pct=f.verzuim_pct.cast("float64"),
        verzuim_pct_volgend=f.verzuim_pct_volgend.cast("float64"),
        verzuim_pct_huishouden=f.hh_max.cast("float64"),
        bijstand=_yes(f.b_flag.notnull()),
        **{c: f[c].cast("int64") for c in ZRM_COLUMNS},
        zrm_gemeten=_yes(f.z_flag.notnull()),
        traject=_yes(f.t_flag.notnull()),
        traject_lopend=_yes(f.r_flag.notnull()),
    )

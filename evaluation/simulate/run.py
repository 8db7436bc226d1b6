"""Writing the simulated world as raw extracts or as a warehouse (see :mod:`evaluation.simulate`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from .. import contract
from ..atomic import atomic_dir
from ..progress import step
from .area import simulate_reported_crime
from .world import (
    DATA_END,
    DATA_START,
    INITIATIVE_START,
    MUNICIPALITIES,
    Effects,
    simulate_world,
    to_date,
)

DEFAULT_EFFECTS = {"reoffending": 0.80, "education_job": 1.25, "group_recruitment": 0.70}

#: Share of rows whose CPR number is written with a hyphen (DDMMYY-SSSS).
HYPHEN_SHARE = 0.2


def default_study_share(persons: int) -> float:
    """min(0.5, 40000 / persons): about 40,000 persons ever in the study area at large N."""
    return min(0.5, 40000.0 / persons)


def simulate(
    out: str | Path,
    persons: int,
    seed: int,
    *,
    form: Literal["raw", "warehouse"] = "raw",
    faults: int = 0,
    effects: dict[str, float] | None = None,
    study_share: float | None = None,
    crime_effect: float | None = None,
    area: Literal["study", "national"] = "study",
) -> dict:
    """Simulate ``persons`` persons and write them to ``out`` (replaced atomically).

    Parameters
    ----------
    out : folder to write (created; an existing folder is replaced only on success).
    persons : number of persons in the register.
    seed : random seed; the same seed and options give byte-identical files.
    form : ``"raw"`` (CSV with CPR numbers) or ``"warehouse"`` (Parquet with person_id).
    faults : number of faults of each kind injected into the raw CSV files (raw form only).
    effects : hazard ratios after the first contact, by outcome family.
    study_share : share of persons ever resident in the study area.
    crime_effect : rate ratio of reported violence and weapons offences in the study municipality
        from the initiative start (``reported_crime``, :mod:`evaluation.simulate.area`; default
        :data:`~evaluation.simulate.area.DEFAULT_AREA_EFFECTS`).
    area : ``"study"`` (the initiative runs in the study municipality 851) or ``"national"``
        (it runs in every municipality; analyse with a cohort definition whose ``index.area``
        lists :data:`~evaluation.simulate.world.MUNICIPALITIES`). ``simulation.json`` then
        says ``"area": "national"``; the default writes exactly what it wrote before.

    Returns
    -------
    dict
        The content of ``simulation.json``.
    """
    eff = dict(DEFAULT_EFFECTS)
    eff.update(effects or {})
    share = default_study_share(persons) if study_share is None else float(study_share)
    if faults and form != "raw":
        raise ValueError("faults are injected into raw CSV files only (--form raw)")
    if area not in ("study", "national"):
        raise ValueError(f"unknown area {area!r}")
    world = simulate_world(persons, seed, Effects(**eff), share, progress=step,
                           national=area == "national")
    from .process_truth import process_truth
    from .truth import compute_truth

    with step("true effects"):
        truth = compute_truth(world.truth_inputs)
        truth["process"] = process_truth(world.truth_inputs)
    frames = _dated_tables(world)
    area_effects = None if crime_effect is None else {"violence": crime_effect, "weapons": crime_effect}
    crime, truth["reported_crime"] = simulate_reported_crime(
        seed, DATA_START, DATA_END, INITIATIVE_START, area_effects)
    params = {
        "seed": int(seed),
        "persons": int(persons),
        "form": form,
        "study_municipality": contract.AALBORG_MUNICIPALITY,
        "initiative_start": str(INITIATIVE_START),
        "data_start": str(DATA_START),
        "data_end": str(DATA_END),
        "effects": eff,
        "study_share": share,
        "faults_per_kind": int(faults),
        "counts": {name: len(df) for name, df in frames.items()},
        "contacted_persons": len(world.truth_inputs["contacted"]),
    }
    if area == "national":
        params["area"] = "national"
        params["study_municipalities"] = list(MUNICIPALITIES)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 851]))
    with atomic_dir(out) as tmp:
        if form == "raw":
            with step("writing raw extracts"):
                fault_list = _write_raw(tmp, frames, world, rng, faults)
                crime.to_csv(tmp / "reported_crime.csv", index=False, lineterminator="\n")
            if faults:
                _dump(tmp / "faults.json", fault_list)
        else:
            with step("writing warehouse"):
                params["counts"]["persons"] = int(world.n)
                _write_warehouse(tmp, frames, world, rng)
                crime.to_parquet(tmp / "reported_crime.parquet", index=False)
        _dump(tmp / "simulation.json", params)
        _dump(tmp / "truth.json", truth)
    return params


def _dump(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _to_date(days: pd.Series) -> pd.Series:
    """Integer day offsets from the data start (NaN = null) to datetime64[s]."""
    v = days.to_numpy(dtype=np.float64)
    out = np.full(len(v), np.datetime64("NaT"), dtype="datetime64[D]")
    ok = ~np.isnan(v)
    out[ok] = to_date(v[ok])
    return pd.Series(out.astype("datetime64[s]"), index=days.index)


def _dated_tables(world) -> dict[str, pd.DataFrame]:
    """Tables in contract column order (``pid`` first), dates as datetime64, sorted."""
    out = {}
    for name in contract.SOURCE_NAMES:
        src = contract.source(name, "raw")
        if name == "employment":  # the largest table: already sorted, month kept as an index
            out[name] = world.tables[name]
            continue
        df = world.tables[name].copy()
        for col in src.columns:
            if col.type == "date":
                df[col.name] = _to_date(df[col.name])
        if name == "charges" or name == "convictions":
            df["case_id"] = "K" + pd.Series(df["case_id"].to_numpy(dtype=np.int64),
                                            index=df.index).map("{:09d}".format)
        cols = ["pid", *src.column_names[1:]]
        sort_cols = ["pid", *[c for c in src.key[1:]]]
        df = df[cols].sort_values(sort_cols, kind="stable").reset_index(drop=True)
        out[name] = df
    return out


def _cpr_numbers(world, rng: np.random.Generator) -> np.ndarray:
    from ..cpr import generate

    birth = to_date(world.birth_day)
    sex = np.where(world.male, "M", "F")
    return generate(birth, sex, rng, hyphen=False)


def _month_text(index: np.ndarray) -> np.ndarray:
    """Month index since 2016-10 to 'YYYY-MM' text."""
    labels = (np.datetime64("2016-10", "M") + np.arange(int(index.max(initial=0)) + 1)).astype(str)
    return labels.astype(object)[index]


def _raw_text(df: pd.DataFrame, src: contract.Source, cprs: np.ndarray,
              rng: np.random.Generator) -> pd.DataFrame:
    cpr = pd.Series(cprs[df["pid"].to_numpy()], dtype=object)
    hyph = rng.random(len(cpr)) < HYPHEN_SHARE
    cpr[hyph] = cpr[hyph].str[:6] + "-" + cpr[hyph].str[6:]
    text = {"cpr": cpr.to_numpy(dtype=object)}
    for col in src.columns[1:]:
        if col.type == "month":
            text[col.name] = _month_text(df["month_index"].to_numpy())
            continue
        s = df[col.name]
        if col.type == "date":
            t = s.dt.strftime("%Y-%m-%d").astype(object)
            t[s.isna()] = None
        elif col.type == "float":
            t = s.map("{:.1f}".format).astype(object)
        else:
            t = s.astype(object)
        text[col.name] = t.to_numpy(dtype=object)
    return pd.DataFrame(text)


#: Tables whose raw text is drawn from their own random stream, by stream key.
OWN_STREAM = {"negative_control_events": 1111}


def _write_raw(folder: Path, frames, world, rng, faults: int) -> list[dict]:
    from .faults import inject_faults

    cprs = _cpr_numbers(world, rng)
    texts = {}
    for name, df in frames.items():
        if name not in OWN_STREAM:
            texts[name] = _raw_text(df, contract.source(name, "raw"), cprs, rng)
    fault_list: list[dict] = []
    if faults:
        fault_list = inject_faults(texts, world, faults, rng)
    # tables added later have their own stream (and no faults): the others stay byte-identical
    for name, seed_key in OWN_STREAM.items():
        own = np.random.default_rng(np.random.SeedSequence([int(world.seed), seed_key]))
        texts[name] = _raw_text(frames[name], contract.source(name, "raw"), cprs, own)
    for name, t in texts.items():
        t.to_csv(folder / f"{name}.csv", index=False, na_rep="", lineterminator="\n")
    return fault_list


def _person_ids(n: int, rng: np.random.Generator) -> np.ndarray:
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    hexed = np.frombuffer(raw.tobytes(), dtype=np.uint8)
    digits = np.array(list("0123456789abcdef"))
    chars = np.empty(n * 32, dtype="<U1")
    chars[0::2] = digits[hexed >> 4]
    chars[1::2] = digits[hexed & 15]
    ids = chars.reshape(n, 32).view("<U32").ravel()
    if len(set(ids.tolist())) != n:  # 128 random bits: a collision is practically impossible
        raise RuntimeError("person_id collision")
    return ids


def _write_warehouse(folder: Path, frames, world, rng) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids_np = _person_ids(world.n, rng)
    ids = pa.array(ids_np, type=pa.string())
    for name, df in frames.items():
        src = contract.source(name, "warehouse")
        cols = {"person_id": ids.take(pa.array(df["pid"].to_numpy(dtype=np.int64)))}
        for col in src.columns[1:]:
            if col.type == "month":
                idx = df["month_index"].to_numpy()
                labels = (np.datetime64("2016-10", "M") + np.arange(int(idx.max(initial=0)) + 1))
                cols[col.name] = pa.array(labels.astype(str).tolist(), type=pa.string()).take(
                    pa.array(idx))
                continue
            s = df[col.name]
            if col.type == "date":
                cols[col.name] = pa.array(s.to_numpy().astype("datetime64[D]"), type=pa.date32(),
                                          mask=s.isna().to_numpy())
            elif col.type == "bool":
                vals = s.map({"true": True, "false": False})
                cols[col.name] = pa.array(vals.to_numpy(dtype=object), type=pa.bool_(),
                                          from_pandas=True)
            elif col.type == "float":
                cols[col.name] = pa.array(s.to_numpy(dtype=np.float64), type=pa.float64())
            else:
                cols[col.name] = pa.array(s.to_numpy(dtype=object), type=pa.string())
        pq.write_table(pa.table(cols), folder / f"{name}.parquet")
    birth = to_date(world.birth_day)
    persons = pa.table({
        "person_id": ids,
        "birth_date": pa.array(birth, type=pa.date32()),
        "sex": pa.array(np.where(world.male, "M", "F").astype(object), type=pa.string()),
    })
    order = np.argsort(ids_np, kind="stable")
    pq.write_table(persons.take(pa.array(order)), folder / "persons.parquet")

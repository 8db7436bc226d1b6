"""The placebo index: the same design with a fake initiative start before the real one.

Nobody was visited before the initiative started, so an effect found there must be spurious. The
fake initiative runs from ``start - shift`` (24 months by default) to the day before the real
start, and the data end the day before the real start. Since there were no visits, the placebo
"contacts" imitate the rule that triggers a visit: a charge for violence or weapons, with the
"contact" ``delay_days`` after the charge date (the visits follow an incident within days or
weeks). Moving the real contacts back in time instead would select persons on their future
(they are contacted later because their risk rises), which a design using the past cannot and
should not remove. The cohort is built with the same definition (eligibility, matching,
covariates as of the placebo index dates) on the real registers; outcomes are followed up to the
day before the real start. An estimate whose interval excludes zero says the design finds
effects where there are none.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd

#: Offence categories whose charge triggers a placebo "contact", and its delay in days.
TRIGGER_CATEGORIES = ("violence", "weapons")
DELAY_DAYS = 14


def placebo_contacts(warehouse: Path, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Placebo contacts: one per trigger charge (``TRIGGER_CATEGORIES``) whose charge date plus
    ``DELAY_DAYS`` falls in [start, end]."""
    from ..io import read_warehouse

    ch = read_warehouse(warehouse, "charges", ["person_id", "charge_date", "offence_category"]).reset_index(drop=True)
    day = pd.to_datetime(ch["charge_date"]) + pd.Timedelta(days=DELAY_DAYS)
    keep = ch["offence_category"].astype(str).isin(TRIGGER_CATEGORIES) & (day >= pd.Timestamp(start)) & (
        day <= pd.Timestamp(end))
    out = pd.DataFrame({"person_id": ch.loc[keep, "person_id"].astype(str).to_numpy(),
                        "contact_date": day[keep].dt.date.to_numpy(), "contact_type": "knock_knock",
                        "parents_present": None, "referred_to": "none"})
    return out.drop_duplicates(["person_id", "contact_date"]).reset_index(drop=True)


def placebo_cohort(warehouse: Path, definition, real_start: dt.date, shift_days: int, seed: int):
    """(cohort DataFrame, placebo data end) of the fake-start design."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..cohort import build_cohort

    end = real_start - dt.timedelta(days=1)
    fake_start = real_start - dt.timedelta(days=shift_days)
    fake = dataclasses.replace(definition, start=fake_start, end=end)
    with tempfile.TemporaryDirectory(prefix="placebo-") as tmp:
        folder = Path(tmp)
        for f in Path(warehouse).glob("*.parquet"):
            if f.name != "contacts.parquet":
                (folder / f.name).symlink_to(f.resolve())
        contacts = placebo_contacts(Path(warehouse), fake_start, end)
        schema = pq.read_schema(Path(warehouse) / "contacts.parquet")
        table = pa.table({
            "person_id": pa.array(contacts["person_id"], type=pa.string()),
            "contact_date": pa.array(contacts["contact_date"], type=pa.date32()),
            "contact_type": pa.array(contacts["contact_type"], type=pa.string()),
            "parents_present": pa.array(contacts["parents_present"], type=pa.bool_()),
            "referred_to": pa.array(contacts["referred_to"], type=pa.string()),
        })
        pq.write_table(table.select([n for n in schema.names if n in table.column_names]), folder / "contacts.parquet")
        result = build_cohort(folder, fake, data_end=end, seed=seed)
    return result.cohort, end

"""Simulated register extracts with known effects (``evaluation simulate``).

The simulated world (:mod:`evaluation.simulate.world`) has N persons born 1991-2012, residence
spells in municipalities (``"851"`` is the study area), deaths and emigrations, charges from a
frailty x age-crime-curve Poisson process with co-offending, convictions and custody, education
spells and monthly paid hours, registrations in criminal groups, and the initiative's contacts
from 2023-09-01. Contacts are targeted: youths aged 14-25 living in "851", not in custody, with
a violence or weapons charge, or a co-offence with a registered group member, are contacted a few
days to weeks after the charge with a probability that rises with their charges in the last 12
months, the charge's category, group links and being in neither education nor a job. The
contacted therefore have much worse outcomes than the non-contacted whatever the effect of
contact: a naive comparison is biased. Contact depends only on history that the registers show
(charges by category and date, co-offending, group registrations, education and employment), so
a comparison matched on that history can remove the bias; the unobserved individual frailty
that drives crime, group recruitment and (inversely) education and jobs acts through it.

Output files (``--form raw``): ``<source>.csv`` for every source of :mod:`evaluation.contract`
(raw form, ``cpr`` first, ISO dates, empty for null, ``employment.month`` as YYYY-MM),
``simulation.json``, ``truth.json`` and, with faults, ``faults.json``. ``--form warehouse``
writes ``<source>.parquet`` (``person_id`` = random 32-hex text, dates as date32) and
``persons.parquet`` instead of the CSV files, for the same persons and events.

What ``truth.json`` holds
-------------------------
``{"horizons_days": [183, 365, 730], "hours_threshold": 40.0, "n_contacted": n,
"outcomes": {family: {...}}}`` with ``family`` one of ``reoffending``, ``education_job``,
``group_recruitment``. The population of each family is the contacted persons at risk at their
index date (the date of their first contact):

- ``reoffending``: every contacted person; the event is the first charge whose offence date is
  after the index date (strictly later day).
- ``education_job``: contacted persons in neither education nor a job at the index date (after
  primary school, not in an education spell, not in a month with paid hours >= hours_threshold);
  the event is the first start of an education spell or the first day of the first month with
  hours >= hours_threshold after the index date.
- ``group_recruitment``: contacted persons not registered in a criminal group at the index date;
  the event is the first registration (registered_date) after it.

Each family holds ``n_at_risk``, ``events_treated_730``, ``events_untreated_730``,
``marginal_hazard_ratio`` and ``by_horizon`` = ``{"183": {...}, "365": {...}, "730": {...}}``
with ``risk_treated``, ``risk_untreated``, ``risk_difference`` (treated minus untreated) and
``risk_ratio`` (treated over untreated). A risk is the share of the population whose event
happens within the horizon (days after the index date) in that potential world: the "treated"
world applies the configured hazard ratio from the first contact on, the "untreated" world does
not, with the same random numbers (so history before the index date is the same). The world is
simulated beyond the end of the data, so these risks are not censored by it; death and
emigration before the event count as no event (cumulative incidence with competing events).
``marginal_hazard_ratio`` is a Cox model's hazard ratio (lifelines, Efron ties) fitted to both
potential outcomes of the population stacked (treated = 1 / 0), follow-up cut at 730 days and
death or emigration treated as censoring. It is a marginal (population-averaged) hazard ratio
among the contacted and, because people differ in frailty, lies closer to 1 than the configured
individual hazard ratio (0.80 gives about 0.83-0.87). The risks are the effect on the contacted
(the ATT) that a matched analysis estimates.

``truth.json`` also holds ``process``: the initiative's true process figures from the
simulator's own triggers and contacts (``contact_delay_days`` {n, q1, median, q3}: days from the
charge that led to each first contact to it; ``reach`` {n, within_days {14, 30, 90}}: among the
young people aged 14-25 in the study area with a triggering charge and no earlier contact, the
share first contacted within so many days of their first such charge); see
:mod:`evaluation.simulate.process_truth`.

Two estimands (``estimand`` names the one of ``by_horizon``): ``by_horizon`` is "contact now
versus no contact" (per protocol: the untreated world has no contact at all, the target of the
comparison arm censored at later contact with inverse-probability-of-censoring weights).
``intention_to_treat.by_horizon`` (same fields) is "contact now versus not now": its untreated
risk is that of the "not now" world, in which the index contact does not happen but the person
may be contacted later as the policy would, with the configured hazard ratio from that later
contact on; the target of the comparison arm followed without censoring at later contact. The
later contact is the first of: the next contact the simulated policy makes (same random
numbers), and the index contact's own incident followed up as the policy follows up an incident
not yet followed up at that date (with the policy's probability given no contact by then, after
a fresh delay of the policy's; :func:`evaluation.simulate.truth.later_contact_day`): the
comparison persons are not yet contacted at their index date, and some of them are contacted
days later for an incident before it.

What ``simulation.json`` holds: seed, persons, form, study_municipality, initiative_start,
data_start, data_end, effects (hazard ratios), study_share, faults (per kind), counts (rows per
table, and persons contacted).

``faults.json`` is a list of ``{"kind", "file", "row", "column"}`` (row = 1-based data row).
Kinds: ``bad_date``, ``malformed_cpr``, ``duplicate`` (the row repeats an earlier row exactly;
the later occurrence is reported, column = the first key column after ``cpr``),
``end_before_start`` (reported on the later date column), ``unknown_category``,
``event_before_birth`` (a charge's offence date before the birth date in the CPR number).
"""

from __future__ import annotations

from .run import DEFAULT_EFFECTS, simulate

__all__ = ["DEFAULT_EFFECTS", "simulate"]

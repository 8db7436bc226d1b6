"""Cohorts: contacted youths at their index date and a matched (or weighted) comparison group.

``load_definition`` reads a cohort definition (``cohorts/*.toml``), ``build_cohort`` builds the
cohort from the warehouse, ``write_cohort`` writes the cohort folder atomically. The design is
described in :mod:`evaluation.cohort.build`.
"""

from .build import CohortResult, build_cohort, write_cohort
from .definition import CohortDefinition, Covariate, load_definition

__all__ = ["CohortDefinition", "CohortResult", "Covariate", "build_cohort", "load_definition",
           "write_cohort"]

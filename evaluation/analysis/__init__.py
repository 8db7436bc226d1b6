"""Analysis plans, survival analyses of the outcomes and the results bundle (``evaluation analyse``)."""

from .plan import OutcomeSpec, Plan, load_plan, load_plans

__all__ = ["OutcomeSpec", "Plan", "load_plan", "load_plans"]

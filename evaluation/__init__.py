"""Evaluation and outcome tracking for youth crime prevention (Aalborg Taskforce / Knock Knock).

Stages (see DESIGN.md): simulate -> pseudonymise -> validate -> cohort build -> analyse -> report.
"""

__version__ = "0.1.0"

"""Errors a user can cause.

Every error a user can cause (a bad file, a bad column, a bad configuration) is raised as an
:class:`EvaluationError`. The CLI turns it into one line on stderr and a non-zero exit code; no
traceback unless ``--debug`` is given. Messages never carry a CPR number or a key: every message
passes through :func:`evaluation.cpr.mask` when the error is made.
"""

from __future__ import annotations


class EvaluationError(Exception):
    """Base class of every error a user can cause. ``exit_code`` is what the CLI exits with."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        from .cpr import mask

        message = mask(message)
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(EvaluationError):
    """A problem in an input file, located by file, row and column where known.

    ``row`` is the 1-based data row (the header is row 0 in a CSV file; the first record is row 1).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        where = []
        if file is not None:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class ConfigError(EvaluationError):
    """A problem in a study, cohort or analysis definition (TOML), naming the file and key."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        self.file = file
        self.key = key
        where = []
        if file is not None:
            where.append(str(file))
        if key is not None:
            where.append(f"key '{key}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class ValidationFailed(EvaluationError):
    """Validation found fatal problems (they have been reported one per line)."""

    exit_code = 1


class KeyFileError(EvaluationError):
    """The pseudonymisation key file is missing, too short, too open or in the wrong place.

    The message names the file, never its content.
    """



class InternalError(EvaluationError):
    """A failure that is not the user's doing (a bug): names the stage and the step it was in.

    Exit code 70 (``EX_SOFTWARE``); the message asks for ``--debug`` and a report.
    """

    exit_code = 70

    def __init__(self, stage: str, exc: BaseException, during: str | None = None) -> None:
        where = f"{stage}" + (f", while {during}" if during else "")
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        super().__init__(f"internal error in {where}: {detail} (run 'evaluation --debug ...' "
                         "for the traceback and report it)")

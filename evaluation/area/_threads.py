"""One BLAS thread for the area estimators' small regressions (:mod:`evaluation.blas`).

Their design matrices are a few thousand rows by a few hundred columns, where a multi-threaded
BLAS gains nothing and, on a busy machine, loses a great deal.
"""

from __future__ import annotations

from ..blas import single_threaded_blas

__all__ = ["single_threaded_blas"]

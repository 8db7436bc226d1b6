"""One BLAS thread for the area estimators' small regressions.

Their design matrices are a few thousand rows by a few hundred columns, where a multi-threaded
BLAS gains nothing and, on a busy machine, loses a great deal (threads waiting for cores: a
least-squares step of 3,000 x 145 took 8 s with every core's thread against 0.3 s with one).
"""

from __future__ import annotations

import functools


def single_threaded_blas(func):
    """Run ``func`` with BLAS limited to one thread (restored afterwards)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper

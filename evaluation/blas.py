"""One BLAS thread for small matrix products.

Products of a few thousand rows by a few dozen or hundred columns gain nothing from a
multi-threaded BLAS and, on a busy machine, lose a great deal (threads waiting for cores): a
least-squares step of 3,000 x 145 took 8 s with every core's thread against 0.3 s with one, and
the propensity fit's information matrix over 2,400 covariate patterns 95 ms against 7 ms.
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

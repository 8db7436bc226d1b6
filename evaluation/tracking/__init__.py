"""Tracking over quarters: the series of kept quarterly bundles, when an answer can be expected,
honest repeated looks, and the initiative's own process indicators.

- :mod:`.spending`: group-sequential boundaries from a Lan-DeMets alpha-spending function;
- :mod:`.projection`: the minimum detectable effect projected quarter by quarter (one function);
- :mod:`.indicators`: reach, speed, activation and repeat contacts from the warehouse;
- :mod:`.calendar`: calendar quarters.

Tracking reads what the earlier stages kept and writes a series; it never recomputes an
estimate that a results bundle already holds.
"""

"""Analysis: what is done with many runs, kept apart from the model.

Validation against the report's stories (``validation``), calibration and its posterior
(``calibration``, ``posterior``), robustness, experiments (sweeps, Sobol/Morris, PRIM;
``experiments``), comparisons and summaries of replicates (``results``) and the interval
statistics they share (``stats``). It reads records and outcome rows, never agents' internals,
and never draws: figures live in ``sim.views``.
"""

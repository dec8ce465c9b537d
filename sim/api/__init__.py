"""API: the workflows every command runs, callable the same way from a notebook or the dashboard.

``workflows`` (run, compare, forecast, robust), ``validation`` (the stories, null models,
knock-outs, face validity, robustness), ``studies`` (sweeps, sensitivity, discovery, calibration),
``catalogue`` (``list`` and ``show``), ``dashboard`` (the server process) and ``checks`` (what
they check and record). Each workflow checks every input before any run, runs with one
:class:`~sim.run.execution.Execution`, writes its result folder whole or not at all and returns
the folder, the result and the answer the command line prints. It sits above ``views`` and below
``cli``: a new command's workflow goes here, its options in ``sim/cli/parser.py``.
"""

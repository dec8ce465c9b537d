"""Core: the model itself, as the report describes it.

``model`` (the Mesa model and its monthly clock), ``arrangements`` (negotiations opened and
arrangements in force), ``agents`` (municipalities and the County Governor),
``negotiation``/``agenda``/``ballot`` (the project organisation: phases, proposals, votes),
``valuation`` (every option's parts and values in a month, as numpy tables composed of the rules)
and ``mechanisms`` (every behavioural rule of the report, one named function each, with its
section), ``region`` (what a negotiation is about), ``history`` (what happened before the start),
``records`` (events and votes as data) and ``outcomes`` (what a finished run yields),
``policies`` (the §4 levers: one class each, called at named hooks) and ``kinds`` (what differs
between a pilot's run and a county's). It imports only ``sim.inputs``: a new mechanism goes in
``mechanisms`` and is called from the agent or the project organisation that acts on it; a new
lever is one class in ``policies`` plus its parameters in ``scenarios/defaults.toml``.
"""

"""Core: the model itself, as the report describes it.

``model`` (the Mesa model and its monthly clock), ``arrangements`` (negotiations opened and
arrangements in force), ``agents`` (municipalities and the County Governor),
``negotiation``/``agenda``/``ballot`` (the project organisation: phases, proposals, votes),
``valuation`` (every option's parts and values in a month, as numpy tables composed of the rules)
and ``mechanisms`` (every behavioural rule of the report, one named function each, with its
section), ``region`` (what a negotiation is about), ``history`` (what happened before the start),
``records`` (events and votes as data) and ``outcomes`` (what a finished run yields). It imports
only ``sim.inputs``: a new mechanism goes in ``mechanisms`` and is called from the agent or the
project organisation that acts on it.
"""

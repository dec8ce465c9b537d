"""Inputs: what a run is made of, read and checked before any agent exists.

The vocabulary (sectors, forms, outcomes; ``vocab``), the typed parameter catalogue (``params``),
scenario and county files (``scenario``, ``county``), municipalities, distances and staff from
``data/`` (``geo``) and the one input error (``errors``). This wing imports nothing else of
``sim``: a new scenario key, a new data file or a new parameter goes here.
"""

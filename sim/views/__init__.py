"""Views: what people see.

Figures (``plots``), maps (``maps``), a run told in words
(``narrative``) and the dashboard (``app``). Views read results and records; they run nothing of
their own except the dashboard, which uses the public runner. A new figure goes here.
"""

"""Shared test settings (the package is installed with ``pip install -e .``, so no path tricks)."""

"""The command line (``python run.py --help``): a thin layer over the Python API in ``sim.api``.

``parser`` reads and checks the arguments (one builder per command); ``commands`` calls the API
and prints its answer, and maps errors to exit codes (2 for bad input, 130 when interrupted).
"""

from sim.cli.commands import main

__all__ = ["main"]

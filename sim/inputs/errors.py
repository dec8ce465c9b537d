"""The one error type that user input can raise: printed as a single line, exit code 2."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input: names the file (or argument source), the key and the problem.

    Args:
        source: File path or argument source such as ``--set``.
        key: The key, argument or value at fault ("-" when the whole file is at fault).
        problem: What is wrong, in plain words.
    """

    def __init__(self, source: str | Path, key: str, problem: str) -> None:
        self.source, self.key, self.problem = str(source), key, problem
        super().__init__(f"{self.source}: {key}: {problem}")

    def __reduce__(self):  # survives the trip back from a worker process
        return type(self), (self.source, self.key, self.problem)


class ScenarioWarning(UserWarning):
    """A doubtful but usable input (e.g. distances far from the triangle inequality): one line on stderr."""

"""Months: the model's clock counts months as ``year * 12 + month - 1``; files and tables write ``YYYY-MM``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.inputs.errors import InputError


def month_label(index: int) -> str:
    """Format a month count (year * 12 + month - 1) as ``YYYY-MM``."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_index(text: Any, source: str | Path, key: str) -> int:
    """Parse ``YYYY-MM`` (ASCII digits, years 1900-2200) to a month count (year * 12 + month - 1)."""
    ok = (
        isinstance(text, str)
        and len(text) == 7
        and text[4] == "-"
        # isdigit() alone accepts other scripts' digits ("٢٠١٦"), which int() would read as a year.
        and text.replace("-", "").isascii()
        and text[:4].isdigit()
        and text[5:].isdigit()
    )
    if not ok:
        raise InputError(source, key, f"expected a date YYYY-MM, got {text!r}")
    year, month = int(text[:4]), int(text[5:])
    if not 1900 <= year <= 2200:
        raise InputError(source, key, f"year must be 1900-2200, got {text!r}")
    if not 1 <= month <= 12:
        raise InputError(source, key, f"month must be 01-12, got {text!r}")
    return year * 12 + month - 1

"""What every workflow checks and records before and after its runs.

``KEY=VALUE`` texts, variants, levers that do not fit a scenario's kind, the ``--posterior``
folder, the default result folder's name and the ``metadata.json`` of a result folder. Every
check raises a one-line :class:`~sim.inputs.errors.InputError` naming the option, before any work.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.inputs.errors import InputError
from sim.inputs.params import ALIASES
from sim.run.output import metadata, write_json

#: Levers that act only through a county scenario's initiative (``[initiative]``, §4): on a pilot
#: (region) scenario they would be accepted and change nothing.
COUNTY_ONLY_LEVERS = ("county_initiative", "initiative_office_size")


@dataclass(frozen=True)
class Output:
    """What a workflow made.

    Attributes:
        path: The result folder (or file) written.
        result: The workflow's result (a :class:`~sim.analysis.results.Results`, a table, a dict...).
        answer: The text ``python run.py`` prints.
    """

    path: Path | None
    result: Any
    answer: str = ""


def parse_set(items: list[str] | None, source: str = "--set") -> dict[str, str]:
    """Parse ``KEY=VALUE`` strings into a dict (values stay strings until the catalogue checks them).

    Raises:
        InputError: an item without ``=``, an empty key or value, or a key given twice.
    """
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise InputError(source, item, "expected KEY=VALUE")
        # Refused rather than last-one-wins: a value typed twice is a slip, and one of them would be
        # dropped without a word.
        if key in out:
            raise InputError(source, key, "given twice")
        out[key] = value
    return out


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    """Parse ``NAME:KEY=VALUE[,KEY=VALUE...]``."""
    name, sep, rest = text.partition(":")
    if not sep or not name.strip() or not rest.strip():
        raise InputError("--variant", text, "expected NAME:KEY=VALUE[,KEY=VALUE...]")
    return name.strip(), parse_set(rest.split(","), "--variant")


def parse_variants(texts: list[str], option: str, given: Mapping[str, Any] | None = None) -> dict[str, dict]:
    """``NAME:KEY=V,...`` texts as ``{name: overrides}``, after the ``given`` ones; a name only once."""
    variants = dict(given or {})
    for text in texts:
        name, overrides = parse_variant(text)
        if name in variants:
            raise InputError(option, name, "variant name given twice")
        variants[name] = overrides
    return variants


def check_lever_kind(scenarios, keys: Iterable[str], source: str) -> None:
    """Refuse (one line) a lever that does not apply to a scenario's kind.

    Args:
        scenarios: The loaded scenarios the keys will be set on.
        keys: The ``--set`` / ``--variant`` / ``--param`` keys (aliases allowed).
        source: The option named in the error.

    Raises:
        InputError: a county-only lever (:data:`COUNTY_ONLY_LEVERS`) on a region scenario.
    """
    for key in keys:
        # Aliases resolved first, so that the old name of a county-only lever is refused as well.
        if ALIASES.get(key, key) not in COUNTY_ONLY_LEVERS:
            continue
        for sc in scenarios:
            if sc.kind != "county":
                raise InputError(
                    source,
                    key,
                    f"acts only through a county scenario's initiative; {sc.path.stem} is a {sc.kind} scenario "
                    "(see `python run.py list`)",
                )


def base_and_variants(scenario: Any, variants: Mapping[str, Mapping[str, Any]], option: str) -> Any:
    """The loaded baseline scenario, after checking every variant's overrides on it.

    Raises:
        InputError: an override the scenario refuses (unknown key, bad value, a county-only lever on a pilot).
    """
    from sim.analysis.results import load_unique  # pandas: not for `list` and `show`, which use this module

    base = load_unique([scenario])[0]
    for overrides in variants.values():
        # Called for its checks only (the result is dropped): a bad key in the last variant must stop
        # the command before the first run, not after the baseline's.
        base.with_overrides(dict(overrides), option)
        check_lever_kind([base], overrides, option)
    return base


def posterior_option(folder: Path | None, committed: bool = False):
    """The ``--posterior`` calibration result, loaded and checked before any work.

    Args:
        folder: The folder given, or None.
        committed: Without a folder, fall back on the committed ``docs/calibration/posterior`` if it exists.
    """
    from sim.analysis.posterior import COMMITTED, load_posterior  # pandas: not for `list` and `show`

    if folder is not None:
        return load_posterior(folder)
    if committed and (COMMITTED / "accepted.csv").is_file():
        return load_posterior(COMMITTED, str(COMMITTED))
    return None


def posterior_meta(post) -> dict[str, Any]:
    """The ``posterior`` entry of ``metadata.json`` (nothing without a posterior)."""
    if post is None:
        return {}
    return {"posterior": {"folder": str(post.folder), "sets": post.size, "note": post.note}}


def stamp() -> str:
    """The time part of a default result folder's name."""
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def default_out(out: Path | None, name: str) -> Path:
    """``out``, or ``results/<name>-<time>``."""
    return Path(out) if out is not None else Path("results") / f"{name}-{stamp()}"


def write_metadata(
    folder: Path, scenarios, seed: int, replicates: int, command: list[str] | None, started, used, **extra: Any
) -> None:
    """Write a result folder's ``metadata.json`` (:func:`sim.run.output.metadata`)."""
    meta = metadata(
        scenarios, seed=seed, replicates=replicates, started=started, execution=used, command=command, **extra
    )
    write_json(folder / "metadata.json", meta)


def resume_command(command: list[str] | None, out: Path) -> str:
    """The command line that resumes a sweep or calibration (same arguments, --out named, --resume, no --force)."""
    if command is None:
        return "the same call with resume=True"
    # --force and --resume refuse each other (experiments._complete), and --out must be named
    # because the default folder name holds the start time, which a second call would not match.
    args = [a for a in command[1:] if a != "--force"]
    if not any(a == "--out" or a.startswith("--out=") for a in args):
        args += ["--out", str(out)]
    if "--resume" not in args:
        args.append("--resume")
    return "python run.py " + shlex.join(args)

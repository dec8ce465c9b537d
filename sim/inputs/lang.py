"""Words in bokmål and English: the domain's terms, kept in one place (``--lang nb|en``).

The report's own Norwegian terms (vertskommune, politisk nemnd, regionråd, kommunereform) are kept
in both languages: the English text names them after the English words, so an official recognises
them and a foreign reader learns them (report §1.3, §2.2, §4). Everything the CLI's summary
sentences, the comparison figure and the dashboard print in words is looked up here or in
:mod:`sim.run.codebook` (the outcome labels).
"""

from __future__ import annotations

import ast
from typing import Any

from sim.inputs.errors import InputError
from sim.inputs.params import BY_NAME, load_defaults

LANGUAGES = ("en", "nb")

#: Terms: key -> {language: words}. Keys are the model's codes (sectors, forms, measures) or
#: the domain's terms.
TERMS: dict[str, dict[str, str]] = {
    # domain terms (the Norwegian word stays in both languages)
    "host": {"en": "host municipality (vertskommune)", "nb": "vertskommune"},
    "board": {"en": "joint political board (politisk nemnd)", "nb": "politisk nemnd"},
    "regional_council": {"en": "regional council (regionråd)", "nb": "regionråd"},
    "reform": {"en": "municipal reform (kommunereform)", "nb": "kommunereform"},
    "county_governor": {"en": "County Governor (Fylkesmannen)", "nb": "Fylkesmannen"},
    # sectors: their labels in [[sector]] of scenarios/defaults.toml (a new sector brings its own)
    **{s.name: {"en": s.label, "nb": s.label_nb} for s in load_defaults().vocab.sectors},
    # measures
    "competence": {"en": "competence", "nb": "kompetanse"},
    "capacity": {"en": "capacity", "nb": "kapasitet"},
    "vulnerability": {"en": "vulnerability", "nb": "sårbarhet"},
    # forms
    "none": {"en": "own service", "nb": "egen tjeneste"},
    "network": {"en": "informal network", "nb": "uformelt nettverk"},
    "admin_host": {
        "en": "administrative host (vertskommune, §28b)",
        "nb": "administrativt vertskommunesamarbeid (§28b)",
    },
    "board_host": {
        "en": "host with a joint political board (politisk nemnd, §28c)",
        "nb": "vertskommune med felles folkevalgt nemnd (§28c)",
    },
    "merger": {"en": "merger into one municipality (kommunereform)", "nb": "sammenslåing til én kommune"},
    # words of the tables, figures and sentences
    "baseline": {"en": "baseline", "nb": "utgangspunkt"},
    "variant": {"en": "variant", "nb": "variant"},
    "difference": {"en": "difference", "nb": "forskjell"},
    "outcome": {"en": "outcome", "nb": "utfall"},
    "unit": {"en": "unit", "nb": "enhet"},
    "interval": {"en": "95 % interval", "nb": "95 % intervall"},
    "to": {"en": "to", "nb": "til"},
    "and": {"en": "and", "nb": "og"},
    "yes": {"en": "yes", "nb": "ja"},
    "no": {"en": "no", "nb": "nei"},
    "paired": {"en": "paired replicates, same seeds", "nb": "parvise replikater, samme frø"},
    "vs_baseline": {"en": "against the baseline", "nb": "mot utgangspunktet"},
    "no_difference": {
        "en": "{name}: no outcome differs from the baseline in {n} paired replicates.",
        "nb": "{name}: ingen utfall skiller seg fra utgangspunktet i {n} parvise replikater.",
    },
    "changes": {"en": "{name} changes", "nb": "{name} endrer"},
    "more_rows": {"en": "{k} more in the table", "nb": "{k} til i tabellen"},
    "unclear": {
        "en": "the other differences are within chance",
        "nb": "de andre forskjellene er innenfor tilfeldig variasjon",
    },
    "differ": {"en": "Outcomes that differ", "nb": "Utfall som endres"},
    "short_table": {
        "en": "Outcomes that differ (the full table is in comparison.csv)",
        "nb": "Utfall som endres (hele tabellen står i comparison.csv)",
    },
    "effect_axis": {
        "en": "variant minus baseline (95 % interval)",
        "nb": "variant minus utgangspunkt (95 % intervall)",
    },
    "intervals": {"en": "intervals", "nb": "intervaller"},
    # the dashboard (its headings, status line and measure titles; the narrative is in English)
    "app_title": {
        "en": "Inter-municipal cooperation: one run among many",
        "nb": "Interkommunalt samarbeid: én kjøring blant mange",
    },
    "run": {"en": "Run", "nb": "Kjøring"},
    "service_measures": {"en": "Service measures", "nb": "Tjenestemål"},
    "what_happened": {"en": "What happened and why", "nb": "Hva skjedde, og hvorfor"},
    "map_title": {
        "en": "where the joint {sector} offices are, over all replicates",
        "nb": "hvor de felles kontorene for {sector} er, over alle replikater",
    },
    "map_share": {
        "en": "Share of replicates in a joint {sector} office",
        "nb": "Andel av replikatene i et felles kontor for {sector}",
    },
    "map_host": {"en": "Host (vertskommune)\nin share of replicates", "nb": "Vertskommune i andel\nav replikatene"},
    "map_replicates": {"en": "{n} replicates; at the horizon", "nb": "{n} replikater; ved horisonten"},
    "map_grey": {
        "en": "Grey: Norwegian municipalities outside the scenario; blank: sea and other countries",
        "nb": "Grått: norske kommuner utenfor scenariet; blankt: sjø og andre land",
    },
    "map_merged": {"en": "Merged by 2019: one shape", "nb": "Kommuner slått sammen innen 2019: én flate"},
    "map_unplaced": {"en": "{k} names did not fit", "nb": "{k} navn fikk ikke plass"},
    "filled": {
        "en": "Filled dot: the 95 % interval excludes 0; open dot: within chance.",
        "nb": "Fylt punkt: 95 % intervallet utelukker 0; åpent punkt: innenfor tilfeldig variasjon.",
    },
}


def check(lang: str, source: str = "--lang") -> str:
    """``lang`` if it is a language of :data:`LANGUAGES`, else an :class:`InputError`."""
    if lang not in LANGUAGES:
        raise InputError(source, lang, f"unknown language; use one of {', '.join(LANGUAGES)}")
    return lang


def term(key: str, lang: str = "en") -> str:
    """The words for ``key`` in ``lang`` (the key itself, with spaces, when there are none)."""
    words = TERMS.get(key)
    if words is None:
        return key.replace("_", " ")
    return words.get(lang, words["en"])


def lever_note(overrides: Any, lang: str = "en") -> str:
    """A variant's overrides in plain words: ``{'allow.board_host': 'false'}`` -> ``The form may be proposed: ... no``.

    Switches read as their catalogue meaning with yes/no (in ``lang``); other levers as their key
    in words with the value and unit (``pilot funding = 0 (x historical)``). The catalogue's
    meanings are in English.
    """
    if isinstance(overrides, str):
        try:
            overrides = ast.literal_eval(overrides)
        except (ValueError, SyntaxError):
            return overrides
    if not isinstance(overrides, dict):
        return str(overrides)
    parts = []
    for key, value in overrides.items():
        spec = BY_NAME.get(key)
        if spec is not None and spec.kind == "bool":
            yes = value is True or str(value).strip().lower() in ("true", "1", "yes")
            parts.append(f"{spec.meaning}: {term('yes' if yes else 'no', lang)}")
            continue
        unit = f" ({spec.unit})" if spec is not None and spec.unit not in ("", "-") else ""
        parts.append(f"{key.replace('_', ' ')} = {str(value).replace('_', ' ')}{unit}")
    return "; ".join(parts) or ("ingen endring" if lang == "nb" else "no change")

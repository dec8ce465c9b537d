"""The codebook: every column of every output file, with its unit and meaning, in one schema.

``docs/outputs.md`` is generated from :data:`FILES` (``python -m sim.run.codebook > docs/outputs.md``;
``tests/test_codebook.py`` checks that the document is current and that every column the CLI
writes is in the schema). The outcome labels and units that the CLI's tables and figures print
come from :data:`OUTCOMES` too, so a table and the codebook use the same words.

Column names may hold placeholders: ``{sector}`` (a sector of the vocabulary, e.g. ``agriculture``),
``{measure}`` (``competence``, ``capacity`` or ``vulnerability``), ``{parameter}`` (a ``--set``
key), ``{year}`` (a calendar year of the forecast, e.g. ``2022``) and ``{estimate}`` (an estimated
scenario input, e.g. ``region.council_stages``). The measures are
defined in docs/ODD.md, "Outcomes".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from sim.inputs.lang import term
from sim.inputs.params import by_name

MEASURE_NAMES = ("competence", "capacity", "vulnerability")

#: Units of the three service measures (docs/ODD.md, "Outcomes").
UNITS = {
    "competence": {"en": "0-1", "nb": "0-1"},
    "capacity": {"en": "FTE per FTE needed", "nb": "årsverk per nødvendig årsverk"},
    "vulnerability": {
        "en": "chance a task goes unserved when one person is away, 0-1",
        "nb": "sjanse for at en oppgave blir liggende når én person er borte, 0-1",
    },
    "municipalities": {"en": "municipalities", "nb": "kommuner"},
    "offices": {"en": "offices", "nb": "kontorer"},
    "residents": {"en": "residents", "nb": "innbyggere"},
    "negotiations": {"en": "negotiations", "nb": "forhandlinger"},
    "decisions": {"en": "decisions", "nb": "vedtak"},
    "share": {"en": "share of replicates, 0-1", "nb": "andel av replikatene, 0-1"},
}


# Labels live here, beside the column they describe, so the codebook, the CLI's tables and the
# figures cannot word one outcome two ways.
@dataclass(frozen=True)
class Outcome:
    """An outcome that ``summary.csv`` and ``comparison.csv`` report (one row each).

    Attributes:
        name: Column of ``runs.csv`` it is computed from (or the binary outcome's name); may hold
            ``{sector}`` or ``{measure}``.
        en: Label in English.
        nb: Label in Norwegian (bokmål).
        unit: Key of :data:`UNITS`, or ``measure`` for the unit of the ``{measure}`` placeholder.
        decimals: Decimals when the interval has no width (every replicate gave the same value).
    """

    name: str
    en: str
    nb: str
    unit: str
    decimals: int = 2


#: Every outcome of ``summary.csv`` / ``comparison.csv``, pilots and counties.
OUTCOMES: tuple[Outcome, ...] = (
    # pilots (scenario kind "region")
    Outcome("any_formal", "Any formal agreement by pilot end", "Formell avtale ved pilotslutt", "share"),
    Outcome("formal_{sector}", "Formal agreement for {sector}", "Formell avtale for {sector}", "share"),
    Outcome("network_{sector}", "Network for {sector}", "Nettverk for {sector}", "share"),
    Outcome("stalled", "Process stopped", "Prosessen stoppet", "share"),
    Outcome(
        "governance_dispute",
        "Stopped over the governance form",
        "Stoppet på styringsformen",
        "share",
    ),
    Outcome(
        "{measure}_pilot_end", "Mean {measure} at pilot end", "Gjennomsnittlig {measure} ved pilotslutt", "measure"
    ),
    Outcome("{measure}_horizon", "Mean {measure} at horizon", "Gjennomsnittlig {measure} ved horisonten", "measure"),
    # counties (scenario kind "county", §4)
    Outcome(
        "offices_{sector}", "Joint {sector} offices (formal)", "Felles kontorer for {sector} (formelle)", "offices", 1
    ),
    Outcome(
        "covered_{sector}",
        "Municipalities served by a joint {sector} office",
        "Kommuner betjent av et felles kontor for {sector}",
        "municipalities",
        1,
    ),
    Outcome(
        "residents_{sector}",
        "Residents served by a joint {sector} office",
        "Innbyggere betjent av et felles kontor for {sector}",
        "residents",
        0,
    ),
    Outcome(
        "network_members_{sector}",
        "Municipalities in a network for {sector}",
        "Kommuner i et nettverk for {sector}",
        "municipalities",
        1,
    ),
    Outcome(
        "vulnerability_{sector}_mean",
        "Mean {sector} vulnerability at the horizon",
        "Gjennomsnittlig sårbarhet i {sector} ved horisonten",
        "vulnerability",
        3,
    ),
    Outcome(
        "vulnerability_{sector}_worst",
        "Worst {sector} vulnerability at the horizon",
        "Høyeste sårbarhet i {sector} ved horisonten",
        "vulnerability",
        3,
    ),
    Outcome(
        "merged", "Municipalities merged (kommuneblokk)", "Kommuner slått sammen (kommuneblokk)", "municipalities", 1
    ),
    Outcome("stalls", "Negotiations stopped", "Forhandlinger som stoppet", "negotiations", 1),
    Outcome("state_decisions", "Hosts named by the state", "Vertskommuner utpekt av staten", "decisions", 1),
)


@dataclass(frozen=True)
class Column:
    """One column of an output file: its name (may hold a placeholder), unit and meaning."""

    name: str
    unit: str
    meaning: str


@dataclass(frozen=True)
class File:
    """One output file: which commands write it, what one row is, and its columns."""

    name: str
    written_by: str
    row: str
    columns: tuple[Column, ...]


def _c(name: str, unit: str, meaning: str) -> Column:
    return Column(name, unit, meaning)


_SCENARIO = _c("scenario", "-", "Scenario (or, for a pilot inside a county, the pilot region) the row belongs to")
_REPLICATE = _c("replicate", "index", "Replicate number, 0-based; replicate r has the same seed in every arm")
_MONTH = _c("month", "YYYY-MM", "Calendar month")
_SUMMARY_COLUMNS = (
    _c("outcome", "-", "Outcome name (a column of runs.csv or a binary outcome; see 'Outcomes' below)"),
    _c("label", "-", "The outcome in words (the same words the CLI prints)"),
    _c("kind", "share / mean", "share: share of replicates with the outcome; mean: mean over replicates"),
)

#: Every output file the CLI writes, with every column.
FILES: tuple[File, ...] = (
    File(
        "runs.csv",
        "run, validate, sweep (pilot scenarios)",
        "one replicate of one scenario",
        (
            _REPLICATE,
            _c("seed", "integer", "Entropy of the replicate's numpy SeedSequence"),
            _SCENARIO,
            _c("n_members", "municipalities", "Members of the region"),
            _c("form_{sector}", "-", "Arrangement in force for the sector at pilot end (none: own service)"),
            _c("members_{sector}", "JSON list", "Members of that arrangement"),
            _c("host_{sector}", "-", "Host municipality (vertskommune) of that arrangement; empty if none"),
            _c("decided_{sector}", "YYYY-MM", "Month the arrangement was decided; empty if none"),
            _c(
                "formal_{sector}", "true/false", "The arrangement is formal (a host form that carries statutory duties)"
            ),
            _c(
                "network_{sector}",
                "true/false",
                "The arrangement is an informal network (no statutory duties, no pooled posts: knowledge shared)",
            ),
            _c("form_{sector}_horizon", "-", "Arrangement in force for the sector at the horizon"),
            _c(
                "vulnerability_{sector}_pilot_end",
                "0-1",
                "Mean vulnerability of the sector at pilot end over the members of its arrangement "
                "at the horizon (all municipalities if none)",
            ),
            _c("vulnerability_{sector}_horizon", "0-1", "The same at the horizon"),
            _c("vulnerability_{sector}_horizon_all", "0-1", "Mean vulnerability of the sector over every member"),
            _c("stall_cause", "-", "Why the process stopped (first stop); empty if it did not"),
            _c("stall_month", "YYYY-MM", "Month of the first stop; empty if none"),
            _c("exits", "JSON list", "Municipalities that left after a vote"),
            _c("first_vote", "YYYY-MM", "Month of the first council vote; empty if none"),
            _c("main_project_start", "YYYY-MM", "Month the main project (or the network) started; empty if never"),
            _c(
                "{measure}_main_start",
                "measure",
                "Mean of the measure over members and sectors before the main project",
            ),
            _c("{measure}_pilot_end", "measure", "Mean of the measure over members and sectors at pilot end"),
            _c("{measure}_horizon", "measure", "Mean of the measure over members and sectors at the horizon"),
            _c(
                "months_to_agreement",
                "months",
                "Months from the start to the first agreement (past the horizon if none)",
            ),
            _c("n_votes", "votes", "Council votes held"),
            _c("formal_by_pilot_end", "true/false", "A formal arrangement was in force for some sector at pilot end"),
            _c("network_by_pilot_end", "true/false", "A network was in force for some sector at pilot end"),
            _c("stalled", "true/false", "The process stopped"),
            _c("posterior_set", "index", "Accepted calibration set the replicate ran with (only with --posterior)"),
        ),
    ),
    File(
        "runs.csv (county)",
        "run (county scenarios, §4)",
        "one replicate of a county scenario, at the horizon",
        (
            _REPLICATE,
            _c("seed", "integer", "Entropy of the replicate's numpy SeedSequence"),
            _SCENARIO,
            _c("n_members", "municipalities", "Municipalities in the county scenario"),
            _c("residents", "residents", "Residents of those municipalities"),
            _c("offices_{sector}", "offices", "Formal joint offices in force (a merger is not one)"),
            _c("covered_{sector}", "municipalities", "Municipalities served by a joint office"),
            _c("residents_{sector}", "residents", "Residents of the municipalities served by a joint office"),
            _c("residents_share_{sector}", "0-1", "residents_{sector} / residents"),
            _c("network_members_{sector}", "municipalities", "Municipalities in an informal network"),
            _c("vulnerability_{sector}_mean", "0-1", "Mean vulnerability over every municipality"),
            _c("vulnerability_{sector}_worst", "0-1", "Vulnerability of the most vulnerable municipality"),
            _c("mergers", "mergers", "Mergers in force (kommunereform track, §4.3)"),
            _c("merged", "municipalities", "Municipalities in a merger"),
            _c("negotiations", "negotiations", "Negotiations started (one per area and sector set)"),
            _c("stalls", "negotiations", "Negotiations stopped at the end where the state did not decide"),
            _c("stall_causes", "JSON {cause: count}", "Why those negotiations stopped"),
            _c("state_decisions", "decisions", "Hosts named by the state (mandatory host)"),
            _c("posterior_set", "index", "Accepted calibration set the replicate ran with (only with --posterior)"),
        ),
    ),
    File(
        "timeline.csv",
        "run (pilot scenarios)",
        "one municipality, sector and month of one replicate",
        (
            _REPLICATE,
            _MONTH,
            _c("municipality", "-", "Municipality"),
            _c("sector", "-", "Sector (planning, environment, agriculture)"),
            _c("form", "-", "Arrangement the municipality is in for the sector that month (none: own service)"),
            _c("competence", "0-1", "Specialist depth of the service (team size and learning)"),
            _c("capacity", "FTE per FTE needed", "Staff available to the statutory tasks per staff needed"),
            _c("vulnerability", "0-1", "Chance a statutory task goes unserved when one person is away"),
            _SCENARIO,
        ),
    ),
    File(
        "events.csv",
        "run",
        "one event of one replicate (lists are JSON arrays)",
        (
            _SCENARIO,
            _REPLICATE,
            _MONTH,
            _c("region", "-", "Region (or county area) whose negotiation the event belongs to"),
            _c("kind", "-", "Kind of event (project start, proposal, vote, agreement, exit, stop, state decision...)"),
            _c("sectors", "JSON list", "Sectors concerned"),
            _c("form", "-", "Form proposed or agreed"),
            _c("host", "-", "Host municipality (vertskommune) proposed or agreed"),
            _c("members", "JSON list", "Municipalities concerned"),
            _c("municipality", "-", "The single municipality concerned (e.g. one that left)"),
            _c("cause", "-", "Why (for a stop: the stall cause)"),
            _c("value", "number", "A number the event carries (e.g. a share of yes votes)"),
            _c("text", "-", "The event in one English sentence"),
        ),
    ),
    File(
        "votes.csv",
        "run",
        "one council's vote on one proposal in one replicate",
        (
            _SCENARIO,
            _REPLICATE,
            _MONTH,
            _c("region", "-", "Region whose negotiation held the vote"),
            _c("vote_id", "index", "Vote number within the replicate"),
            _c("stage", "-", "Stage of the vote (pre-project, main project, ...)"),
            _c("sectors", "JSON list", "Sectors in the proposal"),
            _c("form", "-", "Form proposed"),
            _c("host", "-", "Host proposed (vertskommune)"),
            _c("municipality", "-", "Council voting"),
            _c("vote", "-", "The council's vote (yes / no)"),
            _c(
                "preferred_form",
                "-",
                "Form of the council's best option among all open to it at this vote (none: own service), "
                "by the valuation that decides its vote",
            ),
            _c("preferred_host", "-", "Host of that best option (empty for none or a network)"),
            _c("named_host", "-", "The host the council names in the host decision (§2.1)"),
            _c("governance_form", "-", "The formal form the council prefers on the governance question (§2.2)"),
            _c("compelled", "true/false", "The council was bound (e.g. by a state decision), not free"),
        ),
    ),
    File(
        "summary.csv",
        "run",
        "one outcome of one scenario over all replicates",
        (
            *_SUMMARY_COLUMNS,
            _c("value", "unit of the outcome", "Share or mean over the replicates"),
            _c("ci_low", "unit of the outcome", "Lower limit of the 95 % interval"),
            _c("ci_high", "unit of the outcome", "Upper limit of the 95 % interval"),
            _c("n", "replicates", "Replicates"),
            _c("method", "-", "How the interval was computed (Wilson score for shares, Student t for means)"),
            _SCENARIO,
        ),
    ),
    File(
        "areas.csv",
        "run (county scenarios)",
        "one cooperation area of one replicate, at the horizon",
        (
            _SCENARIO,
            _REPLICATE,
            _c("area", "-", "Cooperation area (from the regional councils, regionråd)"),
            _c("assumed", "true/false", "The area's membership is assumed, not documented"),
            _c("n_members", "municipalities", "Members of the area"),
            _c("residents", "residents", "Residents of the area"),
            _c("form_{sector}", "-", "Form serving most of the area's members (none if none)"),
            _c("host_{sector}", "-", "Host of that arrangement (vertskommune)"),
            _c("covered_{sector}", "municipalities", "Members served by a formal joint office"),
            _c("vulnerability_{sector}", "0-1", "Mean vulnerability over the members"),
            _c("negotiations", "negotiations", "Negotiations held in the area"),
            _c("stalls", "negotiations", "Of these, stopped at the end"),
            _c("stall_causes", "JSON {cause: count}", "Why they stopped"),
        ),
    ),
    File(
        "area_summary.csv",
        "run (county scenarios)",
        "one cooperation area over all replicates",
        (
            _c("area", "-", "Cooperation area"),
            _c("assumed", "true/false", "The area's membership is assumed"),
            _c("n_members", "municipalities", "Members of the area"),
            _c("residents", "residents", "Residents of the area"),
            _c("replicates", "replicates", "Replicates summarised"),
            _c("office_share_{sector}", "0-1", "Share of replicates in which the area has a formal joint office"),
            _c("covered_mean_{sector}", "municipalities", "Mean number of members served by a joint office"),
            _c("vulnerability_{sector}", "0-1", "Mean vulnerability over members and replicates"),
            _c("stall_share", "0-1", "Share of replicates in which a negotiation of the area stopped"),
            _c("stall_causes", "JSON {cause: count}", "Why, summed over the replicates"),
            _SCENARIO,
        ),
    ),
    File(
        "municipalities.csv",
        "run (county scenarios)",
        "one municipality of one replicate, at the horizon (the map's data)",
        (
            _SCENARIO,
            _REPLICATE,
            _c("municipality", "-", "Municipality (2016 borders)"),
            _c("area", "-", "Its cooperation area"),
            _c("population", "residents", "Residents (data/kommuner-2016.csv)"),
            _c("form_{sector}", "-", "Arrangement it is in for the sector (none: own service)"),
            _c("host_{sector}", "-", "Host of that arrangement (vertskommune)"),
            _c("vulnerability_{sector}", "0-1", "Its vulnerability in the sector"),
        ),
    ),
    File(
        "comparison.csv",
        "compare",
        "one outcome of one variant against the baseline, on paired replicates (same seeds)",
        (
            *_SUMMARY_COLUMNS,
            _c("baseline", "unit of the outcome", "Share or mean in the baseline"),
            _c("variant", "unit of the outcome", "Share or mean in the variant"),
            _c("difference", "unit of the outcome", "Variant minus baseline"),
            _c("ci_low", "unit of the outcome", "Lower limit of the 95 % interval of the difference"),
            _c("ci_high", "unit of the outcome", "Upper limit of the 95 % interval of the difference"),
            _c("n", "pairs", "Paired replicates"),
            _c("method", "-", "Interval method (Newcombe paired score for shares, paired t for means)"),
            _c("variant_name", "-", "Name given with --variant"),
            _c("overrides", "-", "The variant's --set values"),
            _c("unit", "-", "Unit of the outcome"),
            _c("differs", "true/false", "The difference is not zero (its interval excludes 0, or it has no width)"),
            _c("posterior_sets", "sets", "Posterior sets the replicates cycle through (only with --posterior)"),
            _c("depends_on", "-", "Unconstrained parameters the difference correlates with (only with --posterior)"),
        ),
    ),
)


FILES += (
    File(
        "futures.csv",
        "robust",
        "one sampled future",
        (
            _c("future", "index", "Future number, 0-based"),
            _c("posterior_set", "index", "Accepted calibration set this future runs with (empty without a posterior)"),
            _c("{estimate}", "unit of the estimate", "An estimated scenario input, drawn uniform within its range"),
            _c("parameter:{parameter}", "unit of the parameter", "The posterior set's value of a calibrated parameter"),
        ),
    ),
    File(
        "robust_values.csv",
        "robust",
        "one variant in one future",
        (
            _c("future", "index", "Future number (futures.csv)"),
            _c("variant", "-", "Variant name (baseline: no lever)"),
            _c("value", "unit of the outcome", "Mean of the scored outcome over the replicates (a share for yes/no)"),
            _c("best", "unit of the outcome", "The best variant's value in this future"),
            _c("regret", "unit of the outcome", "Shortfall from the best: |best - value|"),
            _c("n", "replicates", "Replicates per variant and future (same seeds for every variant)"),
        ),
    ),
    File(
        "robust_summary.csv",
        "robust",
        "one variant over all futures",
        (
            _c("variant", "-", "Variant name"),
            _c("overrides", "-", "The variant's --set values"),
            _c("futures", "futures", "Futures sampled"),
            _c("best_share", "0-1", "Share of futures in which the variant is best (ties count for each)"),
            _c("best_ci_low", "0-1", "Lower limit of its 95 % Wilson interval"),
            _c("best_ci_high", "0-1", "Upper limit of its 95 % Wilson interval"),
            _c("mean_regret", "unit of the outcome", "Mean regret over the futures"),
            _c("worst_regret", "unit of the outcome", "Largest regret in any future (minimax regret ranks by it)"),
            _c("mean_value", "unit of the outcome", "Mean of the scored outcome over the futures"),
        ),
    ),
)


FILES += (
    File(
        "runs.csv (sweep)",
        "sweep (one row per sample and replicate; the other columns are those of runs.csv above)",
        "one replicate at one sampled parameter point",
        (
            _c("sample", "index", "Sample (design point) number, 0-based"),
            _c("{parameter}", "unit of the parameter", "The sampled value of a swept parameter (see `run.py list`)"),
        ),
    ),
    File(
        "indices.csv",
        "sensitivity",
        "one parameter's indices for one outcome",
        (
            _c(
                "outcome",
                "-",
                "p_formal, p_stall (shares), months_to_agreement, vulnerability_horizon, or a county outcome",
            ),
            _c("parameter", "-", "The varied parameter (--set key)"),
            _c("S1", "share of variance", "Sobol first-order index (the parameter alone)"),
            _c("S1_conf", "share of variance", "Half-width of its 95 % bootstrap interval"),
            _c("ST", "share of variance", "Sobol total index (with interactions); above 1 means sampling noise"),
            _c("ST_conf", "share of variance", "Half-width of its 95 % bootstrap interval"),
            _c("mu_star", "unit of the outcome", "Morris mean absolute elementary effect"),
            _c("mu_star_conf", "unit of the outcome", "Half-width of its 95 % bootstrap interval"),
            _c("sigma", "unit of the outcome", "Morris standard deviation of the elementary effects"),
            _c("warning", "-", "Why a row should not be read at face value (empty if none)"),
        ),
    ),
    File(
        "robustness.csv",
        "validate --robustness",
        "one story with one input moved to one end of its range",
        (
            _c("corner", "-", "The moved input and side (e.g. fosen:region.council_stages low)"),
            _c("kind", "-", "estimate (a scenario file's estimated input) or parameter (calibrated)"),
            _c("key", "-", "The input's key"),
            _c("case", "-", "The scenario holding the estimate (empty for a shared parameter)"),
            _c("side", "low / high", "Which end of the range"),
            _c("baseline_value", "unit of the input", "The value the model uses"),
            _c("value", "unit of the input", "The value at this corner"),
            _c("story", "-", "Story (pattern) id"),
            _c("story_case", "-", "The case the story belongs to"),
            _c("share", "0-1", "Share of replicates in which the story holds at this corner"),
            _c("ci_low", "0-1", "Lower limit of its 95 % Wilson interval"),
            _c("ci_high", "0-1", "Upper limit of its 95 % Wilson interval"),
            _c("baseline_share", "0-1", "The story's share at the baseline"),
            _c("change", "0-1", "share - baseline_share"),
            _c("rerun", "true/false", "The corner changed this story's case (else the baseline is kept)"),
        ),
    ),
)


FILES += (
    File(
        "forecast.csv",
        "forecast",
        "one cooperation area (and a last row for the whole county) over all replicates of the forecast",
        (
            _c("area", "-", "Cooperation area (regional council); '(whole county)': in any area of the county"),
            _c("replicates", "replicates", "Replicates of the forecast"),
            _c(
                "p_office_{sector}_{year}",
                "0-1",
                "Share of replicates with a formal joint office (host form, not a merger) in force in December of"
                " the year serving one of the area's municipalities; one that ends before (e.g. an `until`) is not"
                " counted",
            ),
            _c("p_office_{sector}_{year}_low", "0-1", "Lower limit of its 95 % Wilson interval"),
            _c("p_office_{sector}_{year}_high", "0-1", "Upper limit of its 95 % Wilson interval"),
            _c("p_new_office_{sector}_{year}", "0-1", "The same for an office decided after the forecast origin"),
            _c("p_new_office_{sector}_{year}_low", "0-1", "Lower limit of its 95 % Wilson interval"),
            _c("p_new_office_{sector}_{year}_high", "0-1", "Upper limit of its 95 % Wilson interval"),
            _c("host_{sector}_{year}", "-", "Most common host of the most common new-office group (empty: none)"),
            _c("host_share_{sector}_{year}", "0-1", "Share of that group's replicates with this host"),
            _c("members_{sector}_{year}", "JSON list", "Most common group of members of a new office"),
            _c("members_share_{sector}_{year}", "0-1", "Share of replicates with a new office that have this group"),
            _c("p_nothing", "0-1", "Share of replicates with no arrangement of any form decided after the origin"),
            _c("p_nothing_low", "0-1", "Lower limit of its 95 % Wilson interval"),
            _c("p_nothing_high", "0-1", "Upper limit of its 95 % Wilson interval"),
            _c(
                "why_nothing",
                "-",
                "Why nothing happens, with the share of all replicates: the stop cause of the area's last stopped"
                " negotiation, 'still negotiating' or 'no negotiation started'",
            ),
            _c("mean_negotiations", "negotiations", "Negotiations started in the area per replicate"),
        ),
    ),
    File(
        "forecast_runs.csv",
        "forecast",
        "one cooperation area in one replicate of the forecast (forecast.csv aggregates these)",
        (
            _REPLICATE,
            _c("area", "-", "Cooperation area (regional council)"),
            _c("office_{sector}_{year}", "true/false", "A formal joint office serves the area in December of the year"),
            _c("new_office_{sector}_{year}", "true/false", "One of them was decided after the origin"),
            _c("host_{sector}_{year}", "-", "Host of the new office serving most of the area's municipalities"),
            _c("members_{sector}_{year}", "JSON list", "Its members (names at the horizon; a merger by its new name)"),
            _c("form_{sector}_{year}", "-", "Its governance form (scenarios/defaults.toml)"),
            _c("negotiations", "negotiations", "Negotiations started in the area"),
            _c("first_start", "YYYY-MM", "Month the first of them started (empty: none)"),
            _c("nothing", "true/false", "No arrangement of any form was decided for the area after the origin"),
            _c("why", "-", "Why nothing happened (see forecast.csv why_nothing); empty when something did"),
        ),
    ),
    File(
        "groups.csv",
        "forecast",
        "one group of municipalities served by a new formal office in the horizon year (the 5 most common per area)",
        (
            _c("area", "-", "Cooperation area"),
            _c("sector", "-", "The office's sector"),
            _c("year", "year", "The year (the forecast's last December)"),
            _c("members", "JSON list", "The group's members"),
            _c("host", "-", "The group's host"),
            _c("p", "0-1", "Share of replicates with exactly this group and host"),
            _c("ci_low", "0-1", "Lower limit of its 95 % Wilson interval"),
            _c("ci_high", "0-1", "Upper limit of its 95 % Wilson interval"),
        ),
    ),
    File(
        "levers.csv",
        "forecast --levers",
        "one outcome of one lever against the forecast, whole county, on paired replicates (as comparison.csv)",
        (
            *_SUMMARY_COLUMNS,
            _c("baseline", "unit of the outcome", "Share or mean in the forecast (no lever)"),
            _c("variant", "unit of the outcome", "Share or mean with the lever (the lever's name: variant_name)"),
            _c("difference", "unit of the outcome", "With the lever minus the forecast"),
            _c("ci_low", "unit of the outcome", "Lower limit of the 95 % interval of the difference"),
            _c("ci_high", "unit of the outcome", "Upper limit of the 95 % interval of the difference"),
            _c("n", "pairs", "Paired replicates"),
            _c("method", "-", "Interval method (Newcombe paired score for shares, paired t for means)"),
            _c("variant_name", "-", "The lever's name (README's §4 levers, or --lever NAME:...)"),
            _c("overrides", "-", "The lever's --set values"),
        ),
    ),
    File(
        "lever_areas.csv",
        "forecast --levers",
        "one lever in one cooperation area: its effect on a new office in the horizon year, paired replicates",
        (
            _c("area", "-", "Cooperation area"),
            _c("outcome", "-", "new_office_{sector}_{year} (forecast_runs.csv): agriculture, else the first sector"),
            _c("forecast", "0-1", "Share of replicates with a new office, no lever"),
            _c("variant", "0-1", "Share with the lever (the lever's name: variant_name)"),
            _c("difference", "0-1", "With the lever minus the forecast"),
            _c("ci_low", "0-1", "Lower limit of its 95 % Newcombe paired interval"),
            _c("ci_high", "0-1", "Upper limit of its 95 % Newcombe paired interval"),
            _c("n", "pairs", "Paired replicates"),
            _c("method", "-", "Interval method"),
            _c("variant_name", "-", "The lever's name"),
        ),
    ),
)


@cache
def _placeholders() -> dict[str, str]:
    return {
        # Any lower-case word, not the vocabulary's names: the schema holds for every vocabulary a
        # scenario brings. No underscore, so that network_{sector} cannot also match
        # network_members_agriculture (outcome() takes the first match) -- a sector named with an
        # underscore would need this pattern changed.
        "sector": "[a-z]+",
        "year": "[0-9]{4}",
        "measure": "|".join(MEASURE_NAMES),
        "parameter": "|".join(re.escape(k) for k in sorted(by_name(), key=len, reverse=True)),
        "estimate": r"[a-z_]+(?:\.[a-z_]+)+",
    }


@cache
def _pattern(name: str) -> re.Pattern[str]:
    regex = re.escape(name)
    for key, alt in _placeholders().items():
        regex = regex.replace(re.escape("{" + key + "}"), f"(?P<{key}>{alt})")
    return re.compile(regex)


def column(file: str, name: str) -> Column | None:
    """The codebook entry of column ``name`` of ``file`` (e.g. ``runs.csv``), or None if undocumented.

    County and pilot variants of a file (``runs.csv`` and ``runs.csv (county)``) are both searched.
    """
    for f in FILES:
        if f.name.split(" ")[0] != file:
            continue
        for c in f.columns:
            if _pattern(c.name).fullmatch(name):
                return c
    return None


def outcome(name: str) -> tuple[Outcome, dict[str, str]] | None:
    """The :class:`Outcome` whose name matches ``name``, with the placeholder values; None if none."""
    # First match wins: the order of OUTCOMES decides between names two patterns could both match.
    for o in OUTCOMES:
        m = _pattern(o.name).fullmatch(name)
        if m:
            return o, m.groupdict()
    return None


def outcome_label(name: str, lang: str = "en") -> str:
    """An outcome in words (``offices_agriculture`` -> ``Joint agriculture offices (formal)``)."""
    found = outcome(name)
    if found is None:
        return name.replace("_", " ")
    o, values = found
    words = {k: term(v, lang) for k, v in values.items()}
    return getattr(o, lang).format(**words)


def outcome_unit(name: str, lang: str = "en") -> str:
    """Unit of an outcome in words (``vulnerability_agriculture_mean`` -> ``chance a task goes ... 0-1``)."""
    found = outcome(name)
    if found is None:
        return ""
    o, values = found
    key = values.get("measure", "") if o.unit == "measure" else o.unit
    return UNITS.get(key, {}).get(lang, key)


def markdown() -> str:
    """``docs/outputs.md``: every output file with every column, and every outcome, from this schema."""
    lines = [
        "# Output files: the codebook",
        "",
        "Generated from `sim/run/codebook.py` by `python -m sim.run.codebook > docs/outputs.md`; do not edit by hand",
        "(`tests/test_codebook.py` checks that this file is current and that every column the CLI writes",
        "is listed). `{sector}` stands for a sector (`planning`, `environment`, `agriculture`), `{measure}` for",
        "`competence` (0-1), `capacity` (FTE per FTE needed) or `vulnerability` (chance a statutory task goes",
        'unserved when one person is away, 0-1); docs/ODD.md, "Outcomes", defines them. Lists are JSON arrays.',
        "Every output folder also holds `metadata.json` (version, command line, scenario file and SHA-256,",
        "resolved parameters, seeds, scheduler, workers, times).",
        "",
    ]
    for f in FILES:
        lines += [f"## `{f.name}`", "", f"Written by: {f.written_by}. One row: {f.row}.", ""]
        lines += ["| column | unit | meaning |", "|---|---|---|"]
        lines += [f"| `{c.name}` | {c.unit} | {c.meaning} |" for c in f.columns]
        lines.append("")
    lines += [
        "## Outcomes (`outcome` in `summary.csv` and `comparison.csv`)",
        "",
        "The `label` column and the CLI's tables use these words; `--lang nb` prints the Norwegian ones.",
        "",
        "| outcome | label | label (nb) | unit |",
        "|---|---|---|---|",
    ]
    for o in OUTCOMES:
        unit = "unit of the measure" if o.unit == "measure" else UNITS[o.unit]["en"]
        lines.append(f"| `{o.name}` | {o.en} | {o.nb} | {unit} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(markdown())

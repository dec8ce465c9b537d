"""Outcomes of one run: the row of ``runs.csv`` that every analysis reads.

Measures (defined in docs/ODD.md, "Outcomes"):
    competence: 0-1, the specialist depth a service has (team size and learning).
    capacity: FTE available to a municipality's statutory tasks per FTE needed.
    vulnerability: chance that a statutory task goes unserved when one person is away.

"Formal" is :attr:`sim.vocab.Form.formal` (the host forms that can carry statutory duties);
"stalled" is a recorded stall cause. Lists are JSON arrays.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from sim.model import MEASURES, CooperationModel
from sim.records import Arrangement, month_label
from sim.vocab import NONE, EventKind


def _mean_over(model: CooperationModel, month: int, names: list[str], sectors: list[int], measure: str) -> float:
    sc = model.scenario
    t = min(max(month, sc.start), model.month - 1) - sc.start
    idx = [sc.names.index(n) for n in names]
    return float(np.mean(model.history[t][np.ix_(idx, sectors)][..., MEASURES.index(measure)]))


def _in_force(model: CooperationModel, s: int, month: int) -> Arrangement | None:
    live = [a for a in model.arrangements if s in a.sectors and a.live(month)]
    return live[-1] if live else None


def outcome_row(model: CooperationModel) -> dict[str, Any]:
    """Summarise a finished run as one flat dict (one row of ``runs.csv``).

    Per sector ``s``: ``form_s``, ``members_s``, ``host_s``, ``decided_s`` (the arrangement in
    force at the end of the pilot), ``form_s_horizon``, and ``vulnerability_s_pilot_end`` /
    ``_horizon`` (means over the members of the sector's arrangement at the horizon, or over
    all municipalities when there is none).
    """
    sc, vocab = model.scenario, model.p.vocab
    row: dict[str, Any] = {"scenario": sc.name, "n_members": len(sc.names)}
    everyone = list(range(len(vocab.sectors)))
    formal_end = network_end = False
    for sector in vocab.sectors:
        s, name = sector.index, sector.name
        arr = _in_force(model, s, sc.pilot_end)
        row[f"form_{name}"] = arr.form.name if arr else NONE
        row[f"members_{name}"] = json.dumps(list(arr.members) if arr else [], ensure_ascii=False)
        row[f"host_{name}"] = (arr.host or "") if arr else ""
        row[f"decided_{name}"] = month_label(arr.decided) if arr else ""
        row[f"formal_{name}"] = bool(arr and arr.form.formal)
        formal_end |= bool(arr and arr.form.formal)
        network_end |= bool(arr and not arr.form.formal)
        last = _in_force(model, s, sc.horizon)
        row[f"form_{name}_horizon"] = last.form.name if last else NONE
        group = list(last.members) if last else sc.names
        for label, month in (("pilot_end", sc.pilot_end), ("horizon", sc.horizon)):
            row[f"vulnerability_{name}_{label}"] = _mean_over(model, month, group, [s], "vulnerability")
        row[f"vulnerability_{name}_horizon_all"] = _mean_over(model, sc.horizon, sc.names, [s], "vulnerability")
    votes = [v for n in model.negotiations for v in n.votes]
    stalls = [e for e in model.events if e.kind == EventKind.STALL]
    row["stall_cause"] = stalls[0].cause if stalls else ""
    row["stall_month"] = month_label(stalls[0].month) if stalls else ""
    row["exits"] = json.dumps([m for v in votes for m in v.exits], ensure_ascii=False)
    row["first_vote"] = month_label(votes[0].month) if votes else ""
    starts = [e.month for e in model.events if e.kind in (EventKind.MAIN_PROJECT_START, EventKind.NETWORK_START)]
    row["main_project_start"] = month_label(starts[0]) if starts else ""
    start_month = starts[0] if starts else sc.pilot_end
    for measure in MEASURES:
        row[f"{measure}_main_start"] = _mean_over(model, start_month - 1, sc.names, everyone, measure)
        row[f"{measure}_pilot_end"] = _mean_over(model, sc.pilot_end, sc.names, everyone, measure)
        row[f"{measure}_horizon"] = _mean_over(model, sc.horizon, sc.names, everyone, measure)
    decided = [a.decided for a in model.arrangements]
    row["months_to_agreement"] = (min(decided) if decided else sc.horizon + 1) - sc.start
    row["n_votes"] = len(votes)
    row["formal_by_pilot_end"] = formal_end
    row["network_by_pilot_end"] = network_end
    row["stalled"] = bool(stalls)
    return row

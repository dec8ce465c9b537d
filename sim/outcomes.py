"""Outcomes of one run: the row of ``runs.csv`` that every analysis reads.

Measures (defined in docs/ODD.md, "Outcomes"):
    competence: 0-1, the specialist depth a service has (team size and learning).
    capacity: FTE available to a municipality's statutory tasks per FTE needed.
    vulnerability: chance that a statutory task goes unserved when one person is away.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.model import MEASURES, CooperationModel
from sim.params import FORMS, SECTORS
from sim.scenario import month_index, month_label


def _mean_over(model: CooperationModel, month: int, names: list[str], sectors, measure: str) -> float:
    sc = model.scenario
    t = min(max(month, sc.start), model.month - 1) - sc.start
    idx = [sc.names.index(n) for n in names]
    return float(np.mean(model.history[t][np.ix_(idx, list(sectors))][..., MEASURES.index(measure)]))


def outcome_row(model: CooperationModel) -> dict[str, Any]:
    """Summarise a finished run as one flat dict (one row of ``runs.csv``).

    Fields per sector ``s``: ``form_s``, ``members_s``, ``host_s``, ``decided_s`` (the
    arrangement in force or decided at the end of the pilot) and ``form_s_horizon``;
    ``vulnerability_s_pilot_end`` and ``vulnerability_s_horizon`` are means over the members of
    the sector's arrangement at the horizon (all municipalities when there is none).
    """
    sc = model.scenario
    row: dict[str, Any] = {"case": sc.name, "n_members": len(sc.names)}
    all_sectors = range(len(SECTORS))
    for s, sector in enumerate(SECTORS):
        at_end = [a for a in model.arrangements if s in a.sectors and a.decided <= sc.pilot_end
                  and (a.ended is None or a.ended > sc.pilot_end)]
        arr = at_end[-1] if at_end else None
        row[f"form_{sector}"] = arr.form if arr else "none"
        row[f"members_{sector}"] = ";".join(arr.members) if arr else ""
        row[f"host_{sector}"] = (arr.host or "") if arr else ""
        row[f"decided_{sector}"] = month_label(arr.decided) if arr else ""
        last = [a for a in model.arrangements if s in a.sectors and a.ended is None]
        row[f"form_{sector}_horizon"] = last[-1].form if last else "none"
        group = list(last[-1].members) if last else sc.names
        for label, month in (("pilot_end", sc.pilot_end), ("horizon", sc.horizon)):
            row[f"vulnerability_{sector}_{label}"] = _mean_over(model, month, group, [s], "vulnerability")
    voted = {"+".join(SECTORS[s] for s in v.option.sectors) for v in model.project.votes}
    row["voted_sectors"] = ";".join(sorted(voted))
    row["stall_cause"] = model.project.stall_cause or ""
    stalls = [e["month"] for e in model.events if e["event"] == "stall"]
    row["stall_month"] = stalls[0] if stalls else ""
    exits = [e["details"].split(" leaves")[0] for e in model.events if e["event"] == "exit"]
    row["exits"] = ";".join(exits)
    starts = [e["month"] for e in model.events if e["event"] in ("main_project_start", "network_start")]
    row["main_project_start"] = starts[0] if starts else ""
    start_month = month_index(starts[0], sc.path, "main_project_start") if starts else sc.pilot_end
    for measure in MEASURES:
        row[f"{measure}_main_start"] = _mean_over(model, start_month - 1, sc.names, all_sectors, measure)
        row[f"{measure}_pilot_end"] = _mean_over(model, sc.pilot_end, sc.names, all_sectors, measure)
        row[f"{measure}_horizon"] = _mean_over(model, sc.horizon, sc.names, all_sectors, measure)
    decided = [a.decided for a in model.arrangements]
    row["months_to_agreement"] = (min(decided) if decided else sc.horizon + 1) - sc.start
    row["n_votes"] = len(model.project.votes)
    row["formal_by_pilot_end"] = any(row[f"form_{s}"] in FORMS[2:] for s in SECTORS)
    return row

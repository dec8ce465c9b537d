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
    # why a process stopped (one entry per sim.inputs.vocab.Cause)
    "cause.governance_dispute": {
        "en": "the host and the partners wanted different forms of governance",
        "nb": "vertskommunen og partnerne ville ha ulike styringsformer",
    },
    "cause.sector_sensitivity": {
        "en": "the most politically sensitive sector sank the package",
        "nb": "den mest politisk følsomme sektoren felte pakken",
    },
    "cause.host_location": {
        "en": "the councils voting no wanted another host",
        "nb": "kommunene som stemte nei, ville ha en annen vertskommune",
    },
    "cause.reform_competing_track": {
        "en": "the councils voting no were in merger talks elsewhere",
        "nb": "kommunene som stemte nei, var i samtaler om sammenslåing med andre",
    },
    "cause.leader_left": {"en": "the leading municipality voted no", "nb": "den ledende kommunen stemte nei"},
    "cause.insufficient_support": {
        "en": "the expected gains did not outweigh the costs",
        "nb": "de forventede gevinstene veide ikke opp for kostnadene",
    },
    "cause.no_promising_option": {
        "en": "no proposal was promising enough to put to a vote",
        "nb": "ingen forslag var lovende nok til å legges fram for kommunestyrene",
    },
    # events of a negotiation (the timeline's list and the narrative)
    "ev.option": {"en": "{form} for {sectors}", "nb": "{form} for {sectors}"},
    "ev.hosted": {"en": ", hosted by {host}", "nb": ", med {host} som vertskommune"},
    "ev.proposal": {"en": "proposal: {option}", "nb": "forslag: {option}"},
    "ev.first_vote": {"en": "first vote", "nb": "første avstemning"},
    "ev.final_vote": {"en": "final vote", "nb": "endelig avstemning"},
    "ev.vote": {"en": "vote", "nb": "avstemning"},
    "ev.sides": {"en": "yes: {yes}; no: {no}", "nb": "ja: {yes}; nei: {no}"},
    "ev.all_yes": {"en": "all yes: {yes}", "nb": "alle ja: {yes}"},
    "ev.none": {"en": "none", "nb": "ingen"},
    "ev.names_itself": {
        "en": "{who} backs the form and names itself as host",
        "nb": "{who} støtter formen og vil selv være vertskommune",
    },
    "ev.names_host": {
        "en": "{who} backs the form and names {host} as host",
        "nb": "{who} støtter formen og vil ha {host} som vertskommune",
    },
    "ev.reform.talks": {"en": "merger talks", "nb": "samtaler om sammenslåing"},
    "ev.reform.failed": {"en": "merger talks fail", "nb": "samtalene om sammenslåing strander"},
    "ev.reform.agreed": {"en": "merger agreed", "nb": "sammenslåing vedtatt"},
    "ev.stall": {"en": "the process stops: {cause}", "nb": "prosessen stopper: {cause}"},
    "ev.pre_project_start": {"en": "pre-project starts ({members})", "nb": "forprosjektet starter ({members})"},
    "ev.new_round": {
        "en": "a new pre-project on the remaining sectors ({sectors}) after the joint office opened ({members})",
        "nb": "nytt forprosjekt for de gjenstående sektorene ({sectors}) etter at felleskontoret åpnet ({members})",
    },
    "ev.new_round_network": {
        "en": "a new pre-project on {sectors} after the network's pilot period ended ({members})",
        "nb": "nytt forprosjekt for {sectors} etter at nettverkets pilotperiode var over ({members})",
    },
    "ev.exit": {"en": "{who} leaves the project", "nb": "{who} går ut av prosjektet"},
    "ev.side_payment": {
        "en": "{who} is offered to host another joint function",
        "nb": "{who} blir tilbudt å være vertskommune for en annen felles funksjon",
    },
    "ev.postponed": {
        "en": "decision postponed (the municipal reform takes the councils' attention)",
        "nb": "vedtaket utsettes (kommunereformen tar kommunestyrenes oppmerksomhet)",
    },
    "ev.revision": {"en": "the proposal is revised", "nb": "forslaget revideres"},
    "ev.main_project_start": {"en": "main project starts", "nb": "hovedprosjektet starter"},
    "ev.agreement": {"en": "the councils agree on {option}", "nb": "kommunestyrene blir enige om {option}"},
    "ev.service_start": {"en": "the joint office opens: {option}", "nb": "det felles kontoret åpner: {option}"},
    "ev.network_start": {"en": "the network starts", "nb": "nettverket starter"},
    "ev.network_end": {"en": "the network ends", "nb": "nettverket avsluttes"},
    "ev.arrangement_end": {"en": "the arrangement ends ({members})", "nb": "samarbeidet avsluttes ({members})"},
    "ev.pilot_end": {
        "en": "end of the pilot period (funds and follow-up end)",
        "nb": "pilotperioden slutter (midler og oppfølging tar slutt)",
    },
    "ev.levers": {"en": "the policy levers take effect", "nb": "virkemidlene trer i kraft"},
    "ev.state_decision": {"en": "the state requires {option}", "nb": "staten pålegger {option}"},
    # the narrative of one run (sim.views.narrative)
    "nv.preferred": {"en": "preferred {form}", "nb": "foretrakk {form}"},
    "nv.only": {"en": "wanted only {sectors}", "nb": "ville bare ha {sectors}"},
    "nv.host_itself": {"en": "wanted to host the office itself", "nb": "ville selv være vertskommune"},
    "nv.host_other": {"en": "wanted {host} as host", "nb": "ville ha {host} som vertskommune"},
    "nv.merger_talks": {"en": "was in merger talks", "nb": "var i samtaler om sammenslåing"},
    "nv.side_payment": {
        "en": "was offered to host another joint function",
        "nb": "ble tilbudt å være vertskommune for en annen felles funksjon",
    },
    "nv.first": {"en": "the pre-project's recommendation", "nb": "forprosjektets tilrådning"},
    "nv.final": {"en": "the final decision", "nb": "det endelige vedtaket"},
    "nv.voted_on": {
        "en": "In {when} the councils voted on {stage}: {option}.",
        "nb": "I {when} stemte kommunestyrene over {stage}: {option}.",
    },
    "nv.it": {"en": "it", "nb": "den"},
    "nv.they": {"en": "they", "nb": "de"},
    "nv.yes_although": {
        "en": " {who} voted for it (although {s} {why}).",
        "nb": " {who} stemte for (selv om {s} {why}).",
    },
    "nv.yes": {
        "en": " {who} voted for it ({s} valued the joint service above going alone).",
        "nb": " {who} stemte for ({s} verdsatte den felles tjenesten høyere enn å stå alene).",
    },
    "nv.no_because": {"en": " {who} voted against it because {s} {why}.", "nb": " {who} stemte mot fordi {s} {why}."},
    "nv.no_value": {
        "en": "valued the proposal below going alone (costs and loss of control outweighed the gains)",
        "nb": "verdsatte forslaget lavere enn å stå alene (kostnader og tapt kontroll veide tyngre enn gevinstene)",
    },
    "nv.exits": {"en": " {who} then left the project.", "nb": " {who} gikk deretter ut av prosjektet."},
    "nv.passed": {"en": " The proposal passed.", "nb": " Forslaget ble vedtatt."},
    "nv.failed": {"en": " The proposal failed.", "nb": " Forslaget falt."},
    "nv.started": {
        "en": "In {when} {who} started a joint pre-project on shared services.",
        "nb": "I {when} startet {who} et felles forprosjekt om felles tjenester.",
    },
    "nv.proposed": {
        "en": "In {when} the project proposed {option}{chance}.",
        "nb": "I {when} foreslo prosjektet {option}{chance}.",
    },
    "nv.chance": {
        "en": " (the project judged its chance of passing at about {p:.0%})",
        "nb": " (prosjektet anslo sjansen for vedtak til om lag {p:.0%})",
    },
    "nv.stopped": {
        "en": "In {when} the process stopped because {cause}.",
        "nb": "I {when} stoppet prosessen fordi {cause}.",
    },
    "nv.pilot_end": {
        "en": "In {when} the pilot period was over: the County Governor's funds and follow-up ended.",
        "nb": "I {when} var pilotperioden over: Fylkesmannens midler og oppfølging tok slutt.",
    },
    "nv.other": {"en": "In {when}: {text}.", "nb": "I {when}: {text}."},
    "nv.nothing": {
        "en": "Nothing has happened yet: press Step or Play.",
        "nb": "Ingenting har skjedd ennå: trykk Step eller Play.",
    },
    # a county run, one line per negotiation
    "cl.pre_project": {
        "en": "pre-project from {when} ({n} municipalities)",
        "nb": "forprosjekt fra {when} ({n} kommuner)",
    },
    "cl.agreed": {"en": "agreed on {option} in {when}", "nb": "enige om {option} i {when}"},
    "cl.state": {"en": "the state required {option} in {when}", "nb": "staten påla {option} i {when}"},
    "cl.stopped": {"en": "stopped in {when}: {cause}", "nb": "stoppet i {when}: {cause}"},
    "cl.merger": {"en": "merger agreed in {when} ({who})", "nb": "sammenslåing vedtatt i {when} ({who})"},
    "cl.left": {"en": "{who} left in {when}", "nb": "{who} gikk ut i {when}"},
    "cl.failed": {"en": "{n} failed vote(s)", "nb": "{n} forslag falt"},
    "cl.now": {"en": "now {phase}", "nb": "nå {phase}"},
    "cl.not_started": {"en": "not started", "nb": "ikke startet"},
    "cl.pilot": {"en": "pilot", "nb": "pilot"},
    "phase.pre_project": {"en": "in the pre-project", "nb": "i forprosjektet"},
    "phase.first_vote": {"en": "before the councils' first vote", "nb": "før kommunestyrenes første avstemning"},
    "phase.main_project": {"en": "in the main project", "nb": "i hovedprosjektet"},
    "phase.final_vote": {"en": "before the councils' final decision", "nb": "før kommunestyrenes endelige vedtak"},
    "phase.revision": {"en": "revising its proposal", "nb": "reviderer forslaget"},
    "phase.implementation": {"en": "setting up the joint office", "nb": "etablerer det felles kontoret"},
    "phase.network": {"en": "running as a network", "nb": "drives som nettverk"},
    # the dashboard's status line
    "st.months": {"en": "{done} of {total} months simulated", "nb": "{done} av {total} måneder simulert"},
    "st.end": {"en": "end of the run", "nb": "slutt på kjøringen"},
    "st.month": {"en": "Month", "nb": "Måned"},
    "st.in_pilot": {"en": "in the pilot period", "nb": "i pilotperioden"},
    "st.after_pilot": {"en": "after the pilot period", "nb": "etter pilotperioden"},
    "st.after_pilots": {
        "en": "{start} to {end}, after the pilots (they ended {ended})",
        "nb": "{start} til {end}, etter pilotene (de sluttet {ended})",
    },
    "st.negotiations": {
        "en": "Negotiations: **{running} running**, {stopped} stopped, {agreed} ended with an agreement "
        "({all} so far; {n} municipalities in {areas} areas)",
        "nb": "Forhandlinger: **{running} pågår**, {stopped} stoppet, {agreed} endte med enighet "
        "({all} så langt; {n} kommuner i {areas} områder)",
    },
    "st.pre_project": {"en": "pre-project", "nb": "forprosjekt"},
    "st.pre_project_rest": {
        "en": "pre-project for the remaining sectors",
        "nb": "forprosjekt for de gjenstående sektorene",
    },
    "st.first_vote": {"en": "first council vote", "nb": "første avstemning i kommunestyrene"},
    "st.main_project": {"en": "main project", "nb": "hovedprosjekt"},
    "st.final_vote": {"en": "final council vote", "nb": "endelig vedtak i kommunestyrene"},
    "st.revision": {"en": "revising the proposal", "nb": "reviderer forslaget"},
    "st.implementation": {
        "en": "agreed; the joint office is being set up",
        "nb": "vedtatt; det felles kontoret etableres",
    },
    "st.network": {"en": "network running", "nb": "nettverket er i drift"},
    "st.stalled": {"en": "stopped", "nb": "stoppet"},
    "st.done": {"en": "done", "nb": "ferdig"},
    "st.agreed": {"en": "{form} for {sectors} agreed {when}", "nb": "{form} for {sectors} vedtatt {when}"},
    "st.opens": {"en": ", opens {when}", "nb": ", åpner {when}"},
    # the dashboard's distribution over runs
    "ds.same_settings": {"en": "**The same settings, {n} runs**", "nb": "**Samme innstillinger, {n} kjøringer**"},
    "ds.fewer": {
        "en": " (fewer for {k} municipalities, to keep the page quick)",
        "nb": " (færre for {k} kommuner, så siden holder farten)",
    },
    "ds.running": {
        "en": "Running {n} runs in the background: {k} of {n} done",
        "nb": "Kjører {n} kjøringer i bakgrunnen: {k} av {n} ferdige",
    },
    "ds.at_end": {"en": "at the end", "nb": "ved slutten"},
    "ds.so_far": {"en": "so far", "nb": "så langt"},
    "ds.head": {
        "en": "Arrangement at the end of {when} in {n} runs of {name} with these settings (same levers and "
        "parameters, different chance events). Outlined: this run's arrangement {which}.",
        "nb": "Samarbeidsordning ved utgangen av {when} i {n} kjøringer av {name} med disse innstillingene (samme "
        "virkemidler og parametere, ulike tilfeldige hendelser). Markert: denne kjøringens ordning {which}.",
    },
    "ds.k_of_n": {
        "en": "{k} of {n} runs (95 % Wilson interval {lo:.0%} to {hi:.0%})",
        "nb": "{k} av {n} kjøringer (95 % Wilson-intervall {lo:.0%} til {hi:.0%})",
    },
    "ds.this_run": {"en": "this run", "nb": "denne kjøringen"},
    "ds.in_none": {
        "en": "this run: {form} (in none of the {n} runs at the end)",
        "nb": "denne kjøringen: {form} (i ingen av de {n} kjøringene ved slutten)",
    },
    "ds.stopped": {
        "en": "The process stopped in <b>{stopped} of {n}</b> runs",
        "nb": "Prosessen stoppet i <b>{stopped} av {n}</b> kjøringer",
    },
    "ds.same_outcome": {
        "en": "This run's outcome (the same arrangement in every sector) came out in <b>{k} of {n}</b> runs "
        "(95 % interval {lo:.0%} to {hi:.0%}). It is one possible course, not a forecast.",
        "nb": "Denne kjøringens utfall (samme ordning i hver sektor) kom ut i <b>{k} av {n}</b> kjøringer "
        "(95 % intervall {lo:.0%} til {hi:.0%}). Det er ett mulig forløp, ikke en prognose.",
    },
    "ds.county_head": {
        "en": "{name} at the end of {when}: means over {n} runs with these settings (same levers and parameters, "
        "different chance events), with 95 % t intervals (counts: not below 0); the last column is this run {which}.",
        "nb": "{name} ved utgangen av {when}: gjennomsnitt over {n} kjøringer med disse innstillingene (samme "
        "virkemidler og parametere, ulike tilfeldige hendelser), med 95 % t-intervaller (antall: ikke under 0); "
        "siste kolonne er denne kjøringen {which}.",
    },
    "ds.outcome": {"en": "Outcome", "nb": "Utfall"},
    "ds.mean": {"en": "Mean (95 % interval)", "nb": "Gjennomsnitt (95 % intervall)"},
    "ds.this_run_column": {"en": "This run", "nb": "Denne kjøringen"},
    "ds.one_course": {
        "en": "This run is one possible course, not a forecast.",
        "nb": "Denne kjøringen er ett mulig forløp, ikke en prognose.",
    },
    # the timeline and fan-chart figures
    "tl.yes": {"en": "votes yes", "nb": "stemmer ja"},
    "tl.no": {"en": "votes no", "nb": "stemmer nei"},
    "tl.other_host": {
        "en": "no, but backs the form and names another host",
        "nb": "nei, men støtter formen og vil ha en annen vertskommune",
    },
    "tl.exit": {"en": "leaves the project", "nb": "går ut av prosjektet"},
    "tl.proposal": {"en": "proposal", "nb": "forslag"},
    "tl.agreement": {"en": "agreement", "nb": "enighet"},
    "tl.stall": {"en": "process stops", "nb": "prosessen stopper"},
    "tl.reform": {"en": "municipal reform (kommunereform)", "nb": "kommunereform"},
    "tl.other": {"en": "other step (see the list)", "nb": "annet steg (se listen)"},
    "tl.pilot_end": {"en": "end of the pilot", "nb": "slutt på pilotperioden"},
    "tl.month": {"en": "Month", "nb": "Måned"},
    "tl.title": {
        "en": "{name}: one representative replicate (the most common outcome)",
        "nb": "{name}: ett representativt replikat (det vanligste utfallet)",
    },
    "fan.competence": {"en": "Competence\n(0-1)", "nb": "Kompetanse\n(0-1)"},
    "fan.capacity": {"en": "Capacity (FTE per\nFTE needed)", "nb": "Kapasitet (årsverk per\nårsverk som trengs)"},
    "fan.vulnerability": {
        "en": "Vulnerability (chance a\ntask goes unserved when\none person is away)",
        "nb": "Sårbarhet (sjanse for at\nen oppgave blir liggende\nnår én person er borte)",
    },
    "fan.title": {
        "en": "{name}: median and 10-90 % band over {n} replicates (dotted line: end of the pilot)",
        "nb": "{name}: median og 10-90 %-bånd over {n} replikater (prikket linje: slutt på pilotperioden)",
    },
    "fan.flat": {"en": "no spread: the same in every replicate", "nb": "ingen spredning: likt i alle replikater"},
    "fan.why_flat": {
        "en": "No arrangement formed in any replicate, and a measure changes only with one: the lines are flat",
        "nb": "Ingen samarbeidsordning ble etablert i noe replikat, og et mål endres bare med en: linjene er flate",
    },
}

#: Month names (the narrative's "March 2016"; the timeline's "Mar 2016").
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "nb": ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober",
           "november", "desember"),
}  # fmt: skip

#: The policy levers' meanings in bokmål (the catalogue, :mod:`sim.inputs.params`, holds the English).
# Only the levers have bokmål meanings: they are what an official sets; the behavioural
# parameters stay in the catalogue's English.
LEVER_MEANINGS_NB = {
    "agenda": "Dagsorden: prosjektet velger / én pakke med alle sektorer / én sektor om gangen, minst følsom først",
    "allow": "Formen kan foreslås",
    "pilot_funding": "Pilotmidler fra Fylkesmannen, som multiplum av det pilotene fikk (0 = ingen)",
    "governor_follow_up": "Fylkesmannens oppfølging: forpliktelsen som pilotstatus gir",
    "reform_intensity": "Styrken i kommunereformen (0 = ingen reform, 1 = som i 2014-2016)",
    "extra_political_involvement": "Politisk involvering lagt til hver regions egen",
    "side_payments": "Vertskap for en annen felles funksjon kan tilbys et medlem som tapte kampen om vertskapet",
    "post_pilot_coordinator": "En nettverkskoordinator er finansiert også etter pilotperioden",
    "county_initiative": (
        "Fylkesinitiativ: Fylkesmannen tilbyr alle områder et finansiert forprosjekt (fylkesscenarier)"
    ),
    "initiative_office_size": (
        "Største antall medlemmer i ett initiativkontor; større områder deles i nabogrupper "
        "(0 = hele området; 1 = ikke noe felles kontor)"
    ),
    "fixed_areas": "Midler bare til faste samarbeidsområder: tilskudd mens midlene varer, hvis hele området blir med",
    "area_grant": "Verdien av tilskuddet til faste områder for hvert medlem (med fixed_areas)",
    "merger_size": "En sammenslåing oppfyller reformens størrelseskriterium fra dette innbyggertallet (reformtilskudd)",
    "merger_grant": "Verdien for hvert medlem av reformens støtte til en sammenslåing som oppfyller kriteriet",
    "mandatory_host": (
        "Staten pålegger administrativt vertskommunesamarbeid under mandatory_size: ingen veto eller "
        "uttreden; staten utpeker vertskommunen"
    ),
    "mandatory_size": "Innbyggertall under dette gjør mandatory_host gjeldende (Danmark 2007: 30 000)",
}


def meaning(key: str, lang: str = "en") -> str:
    """A parameter's meaning in ``lang``: the catalogue's (English), or for a lever its bokmål words.

    A per-form or per-sector key (``allow.board_host``) reads as the base meaning and the item's
    name (``Formen kan foreslås: vertskommune med felles folkevalgt nemnd (§28c)``).
    """
    spec = BY_NAME.get(key)
    base, _, item = key.partition(".")
    if lang != "nb" or base not in LEVER_MEANINGS_NB:
        return spec.meaning if spec is not None else key.replace("_", " ")
    return LEVER_MEANINGS_NB[base] + (f": {term(item, lang)}" if item else "")


def names(items: Any, lang: str = "en") -> str:
    """``a``, ``a and b``, ``a, b and c`` (``og`` in bokmål)."""
    items = [str(i) for i in items]
    word = f" {term('and', lang)} "
    return word.join(items) if len(items) < 3 else ", ".join(items[:-1]) + word + items[-1]


def month_words(month: int, lang: str = "en", short: bool = False) -> str:
    """``March 2016`` (``mars 2016``) for a month index; ``Mar 2016`` (``mar 2016``) when ``short``."""
    name = MONTHS[lang if lang in MONTHS else "en"][month % 12]
    return f"{name[:3] if short else name} {month // 12}"


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
    # A term without bokmål words falls back to English: a new sector or form brought as data is
    # never printed as a bare key.
    return words.get(lang, words["en"])


def lever_note(overrides: Any, lang: str = "en") -> str:
    """A variant's overrides in plain words: ``{'allow.board_host': 'false'}`` -> ``The form may be proposed: ... no``.

    Switches read as their catalogue meaning with yes/no (in ``lang``); other levers as their key
    in words with the value and unit (``pilot funding = 0 (x historical)``); the switches' meanings
    in ``lang`` (:func:`meaning`).
    """
    if isinstance(overrides, str):
        try:
            # The overrides column of comparison.csv holds str(dict): literal_eval reads it back without
            # running anything, and an unreadable cell is shown as it is.
            overrides = ast.literal_eval(overrides)
        except (ValueError, SyntaxError):
            return overrides
    if not isinstance(overrides, dict):
        return str(overrides)
    parts = []
    for key, value in overrides.items():
        spec = BY_NAME.get(key)
        if spec is not None and spec.kind == "bool":
            # A value may still be the command line's string ("false"): bool("false") would read as yes.
            yes = value is True or str(value).strip().lower() in ("true", "1", "yes")
            parts.append(f"{meaning(key, lang)}: {term('yes' if yes else 'no', lang)}")
            continue
        unit = f" ({spec.unit})" if spec is not None and spec.unit not in ("", "-") else ""
        parts.append(f"{key.replace('_', ' ')} = {str(value).replace('_', ' ')}{unit}")
    return "; ".join(parts) or ("ingen endring" if lang == "nb" else "no change")

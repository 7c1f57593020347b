"""The committee's exports: one row per dossier, one column group per CRA opinion (main region
first) with its motivation. CSV for French spreadsheets (UTF-8 with BOM, ``;``) and ODS
(OpenDocument, written by odfpy)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P

from api.cra.pages import paris
from api.synthesis.rows import DECISION_STATES, CraOpinion, SynthesisRow
from core.domain.procedure import STAGE_LABELS
from core.domain.regions import region_name
from core.rules.selection import APPRECIATION_LABELS, CRITERIA_GROUP_LABELS, Appreciation

Cell = str | int | float

DOSSIER_HEADER = ["N° du dossier", "Projet", "Date de dépôt", "Région(s)", "Territoire fragile",
                  "Étape", "Majorité d’éligibilité", "Décision", "Date de décision"]
CRA_FIELDS = ["Région", "Avis", "Date de l’avis", "Auteur", "Motivation",
              "Appréciation des critères", *CRITERIA_GROUP_LABELS.values(), "Relances envoyées"]


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("Oui" if value else "Non")


def _day(moment: datetime | None) -> str:
    return paris(moment, with_time=False)


def _stage(value: str) -> str:
    return next((label for stage, label in STAGE_LABELS.items() if stage.value == value), value)


def _cra(c: CraOpinion | None) -> list[Cell]:
    if c is None:
        return [""] * len(CRA_FIELDS)
    appreciations = [APPRECIATION_LABELS[Appreciation(c.appreciations[g.value])]
                     if c.appreciations.get(g.value) in APPRECIATION_LABELS else ""
                     for g in CRITERIA_GROUP_LABELS]
    return [region_name(c.region), c.label, _day(c.answered_at), c.author or "",
            c.motivation or "", c.criteria_assessment or "", *appreciations, c.reminders_sent]


def table(rows: list[SynthesisRow]) -> list[list[Cell]]:
    """Header and rows; as many CRA column groups as the most consulted dossier needs."""
    groups = max((len(r.cras) for r in rows), default=1) or 1
    header: list[Cell] = [*DOSSIER_HEADER, *(f"CRA {i + 1} – {name}" for i in range(groups)
                                             for name in CRA_FIELDS)]
    body: list[list[Cell]] = []
    for r in rows:
        line: list[Cell] = [r.number, r.project or "", _day(r.filed_at),
                            ", ".join(region_name(g) for g in r.regions), _yes_no(r.fragile),
                            _stage(r.stage), _yes_no(r.majority), DECISION_STATES[r.decision],
                            _day(r.decided_at)]
        for i in range(groups):
            line += _cra(r.cras[i] if i < len(r.cras) else None)
        body.append(line)
    return [header, *body]


def to_csv(rows: list[SynthesisRow]) -> bytes:
    """Opens in a French spreadsheet as is: the BOM says UTF-8, ``;`` is the list separator."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(table(rows))
    return buffer.getvalue().encode("utf-8-sig")


def to_ods(rows: list[SynthesisRow]) -> bytes:
    document = OpenDocumentSpreadsheet()
    sheet = Table(name="Synthèse")
    for line in table(rows):
        row = TableRow()
        for value in line:
            if isinstance(value, int | float) and not isinstance(value, bool):
                cell = TableCell(valuetype="float", value=value)
            else:
                cell = TableCell(valuetype="string")
            for paragraph in str(value).split("\n"):
                cell.addElement(P(text=paragraph))
            row.addElement(cell)
        sheet.addElement(row)
    document.spreadsheet.addElement(sheet)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()

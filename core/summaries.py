"""One-line summary and Markdown details of a dossier, as the Temporal UI shows them.

No personal data: project, carrying structure (an organisation), regions, legal form, flags.
The applicant's text is inert there: every Markdown or HTML character is backslash-escaped
(CommonMark), line breaks become spaces, and table cells cannot be closed early.
"""

from __future__ import annotations

import re
from datetime import datetime

from core.domain.dossier import Dossier
from core.domain.regions import region_name

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~=&:])")


def inert(text: str | None, limit: int = 200) -> str:
    """Applicant text as literal Markdown: shown as typed, never as a link, image or markup."""
    if not text:
        return ""
    flat = " ".join(text.split())[:limit]
    return _MARKDOWN.sub(r"\\\1", flat)


def format_utc(d: datetime | None) -> str:
    """A date as the Temporal UI texts show it (UTC, like the UI itself)."""
    return d.strftime("%d/%m/%Y %H:%M UTC") if d else "—"


def dossier_summary(number: int, dossier: Dossier | None) -> str:
    if dossier is None:
        return f"Dossier n° {number}"
    regions = ", ".join(region_name(r) for r in dossier.regions) or "région non renseignée"
    return f"n° {number} · {inert(dossier.project_name) or 'projet sans nom'} · {regions}"


def dossier_details(dossier: Dossier) -> str:
    flags = [label for label, on in (("QPV", dossier.territory.qpv), ("ZRR", dossier.territory.zrr),
                                     ("bassin désindustrialisé", dossier.territory.deindustrialised))
             if on]
    rows = [
        ("Projet", inert(dossier.project_name) or "—"),
        ("Structure porteuse", inert(dossier.structure.name) or "—"),
        ("Forme juridique", dossier.structure.legal_form or "—"),
        ("Région(s)", ", ".join(region_name(r) for r in dossier.regions) or "—"),
        ("Territoire fragile", ", ".join(flags) or "non"),
        ("Déposé le", format_utc(dossier.deposited_at)),
        ("Démarche", str(dossier.demarche)),
    ]
    return "\n".join(["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)])

"""``GET /``: a small French page listing the stand-in's dossiers and their state."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from standins.platform.clock import PARIS, from_us
from standins.platform.context import Platform
from standins.platform.deps import PlatformDep
from standins.platform.records import DossierRecord
from standins.platform.rules import STATE_LABELS

_PAGE = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>Démarche numérique (simulation locale)</title>
<style>
body {{ font-family: Marianne, Arial, sans-serif; margin: 2rem; color: #161616; }}
table {{ border-collapse: collapse; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .4rem .8rem; text-align: left; }}
.etat {{ font-weight: bold; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>Simulation locale de l’API GraphQL de démarche.numerique.gouv.fr — démarche n° {number}.</p>
<p><a href="/_standin/usager/nouveau">Déposer un dossier (en tant que porteur de projet)</a> ·
un numéro de dossier ouvre sa page usager : le lire, répondre à une demande de correction.</p>
{content}
</body>
</html>
"""


router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(platform: PlatformDep) -> str:
    records = platform.store.dossiers()
    content = _table(platform, records) if records else "<p>Aucun dossier déposé.</p>"
    return _PAGE.format(
        title=escape(platform.demarche.title),
        number=platform.demarche.number,
        content=content,
    )


def _table(platform: Platform, records: list[DossierRecord]) -> str:
    name = platform.demarche.champ_by_field.get("project_name")
    rows = "".join(
        "<tr>"
        f"<td>{_number(record)}</td>"
        f"<td>{escape(str(record.champs.get(name.id) or '') if name else '')}</td>"
        f"<td>{escape(record.usager_email)}</td>"
        f'<td class="etat">{_state(record)}</td>'
        f"<td>{from_us(record.updated_at).astimezone(PARIS):%d/%m/%Y %H:%M:%S}</td>"
        "</tr>"
        for record in records
    )
    return (
        "<table><thead><tr><th>N°</th><th>Projet</th><th>Usager</th><th>État</th>"
        f"<th>Dernière modification</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _number(record: DossierRecord) -> str:
    if record.deleted_at is not None:
        return str(record.number)
    return f'<a href="/_standin/dossiers/{record.number}/usager">{record.number}</a>'


def _state(record: DossierRecord) -> str:
    if record.deleted_at is not None:
        return "supprimé"
    if record.hidden_for_administration:
        return "supprimé par l’usager (restaurable)"
    return escape(STATE_LABELS.get(record.state, record.state))

"""The applicant's pages, in French: file a dossier, read it, answer a correction request.

``GET /_standin/usager/nouveau`` and ``GET /_standin/dossiers/{n}/usager`` show a plain form
(no JavaScript); posting it files or edits the dossier as the applicant would on the
platform, through ``usager.deposer`` / ``usager.modifier``, so an edit resolves a pending
correction request and moves ``dateDerniereModification`` like the JSON endpoints do.
After a successful post the browser is redirected (303) back to the dossier's page. A dossier
en construction can be deleted from its page, and restored from it until the purge.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from standins.platform import usager
from standins.platform.clock import PARIS, from_us
from standins.platform.context import Platform
from standins.platform.deps import PlatformDep
from standins.platform.fields import FieldError
from standins.platform.records import EN_CONSTRUCTION, DossierRecord
from standins.platform.rules import STATE_LABELS
from standins.platform.usager_form import parse_fields, render_fields

_PAGE = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>{title} – démarche numérique (simulation locale)</title>
<style>
body {{ font-family: Marianne, Arial, sans-serif; margin: 2rem; max-width: 52rem; color: #161616; }}
.champ, fieldset {{ margin: 0 0 1rem; }}
label {{ display: block; font-weight: bold; }}
fieldset label, .champ input[type=checkbox] + * {{ font-weight: normal; }}
textarea, select {{ width: 100%; font: inherit; }}
.alerte {{ border-left: .3rem solid #b34000; background: #fff4f3; padding: .5rem 1rem; }}
.succes {{ border-left: .3rem solid #18753c; background: #b8fec9; padding: .5rem 1rem; }}
.erreur {{ border-left: .3rem solid #ce0500; background: #ffe9e9; padding: .5rem 1rem; }}
</style>
</head>
<body>
<p><a href="/">← Tous les dossiers</a></p>
<h1>{title}</h1>
{content}
</body>
</html>
"""


router = APIRouter(prefix="/_standin")


@router.get("/usager/nouveau", response_class=HTMLResponse)
def new_form(platform: PlatformDep) -> str:
    return _new_page(platform)


@router.post("/usager/nouveau")
async def file_dossier(platform: PlatformDep, request: Request) -> Response:
    form = await request.form()
    email = str(form.get("usager_email") or "").strip()
    try:
        if "@" not in email:
            raise FieldError("Indiquez une adresse électronique valide.")
        number = usager.deposer(platform, email, parse_fields(platform.demarche, form))
    except (FieldError, ValueError) as error:
        return HTMLResponse(_new_page(platform, error=str(error)), status_code=422)
    return RedirectResponse(f"/_standin/dossiers/{number}/usager?depose=1", status_code=303)


@router.get("/dossiers/{number}/usager", response_class=HTMLResponse)
def dossier_page(platform: PlatformDep, number: int, depose: bool = False, enregistre: bool = False,
                 restaure: bool = False) -> Response:
    record = platform.store.dossier(number)
    if record is None or record.deleted_at is not None:
        return _not_found()
    if record.hidden_for_administration:
        return HTMLResponse(_deleted_page(record))
    notice = ("Votre dossier a été déposé." if depose
              else "Vos modifications ont été enregistrées." if enregistre
              else "Votre dossier a été restauré." if restaure else None)
    return HTMLResponse(_dossier_page(platform, record, notice=notice))


@router.post("/dossiers/{number}/usager/supprimer")
def delete(platform: PlatformDep, number: int) -> Response:
    try:
        usager.supprimer(platform, number)
    except usager.DossierNotFound:
        return _not_found()
    except usager.DossierNotEditable as error:
        return _refused(platform, number, error, 409)
    return RedirectResponse(f"/_standin/dossiers/{number}/usager", status_code=303)


def _refused(platform: Platform, number: int, error: Exception, status: int) -> Response:
    """The dossier's page again, with why the request was refused."""
    record = platform.store.dossier(number)
    assert record is not None
    return HTMLResponse(_dossier_page(platform, record, error=str(error)), status_code=status)


@router.post("/dossiers/{number}/usager/restaurer")
def restore(platform: PlatformDep, number: int) -> Response:
    try:
        usager.restaurer(platform, number)
    except usager.DossierNotFound:
        return _not_found()
    return RedirectResponse(f"/_standin/dossiers/{number}/usager?restaure=1", status_code=303)


@router.post("/dossiers/{number}/usager")
async def edit_dossier(platform: PlatformDep, number: int, request: Request) -> Response:
    form = await request.form()
    try:
        usager.modifier(platform, number, parse_fields(platform.demarche, form))
    except usager.DossierNotFound:
        return _not_found()
    except usager.DossierNotEditable as error:
        return _refused(platform, number, error, 409)
    except (FieldError, ValueError) as error:
        return _refused(platform, number, error, 422)
    return RedirectResponse(f"/_standin/dossiers/{number}/usager?enregistre=1", status_code=303)


def _not_found() -> HTMLResponse:
    content = "<p>Ce dossier n’existe pas ou a été supprimé.</p>"
    return HTMLResponse(_PAGE.format(title="Dossier introuvable", content=content), status_code=404)


def _deleted_page(record: DossierRecord) -> str:
    assert record.hidden_by_user_at is not None
    until = record.hidden_by_user_at + int(usager.RESTORE_WINDOW.total_seconds() * 1_000_000)
    content = (f"<p>Vous avez supprimé ce dossier le {_date(record.hidden_by_user_at)}. Il reste "
               f"dans votre corbeille jusqu’au {_date(until)} : vous pouvez le restaurer "
               "jusque-là.</p>"
               f'<form method="post" action="/_standin/dossiers/{record.number}/usager/restaurer">'
               '<button type="submit">Restaurer le dossier</button></form>')
    return _PAGE.format(title=f"Dossier n° {record.number} supprimé", content=content)


def _new_page(platform: Platform, error: str | None = None) -> str:
    content = (
        _banner("erreur", error)
        + '<form method="post" action="/_standin/usager/nouveau" enctype="multipart/form-data">'
        '<div class="champ"><label for="usager_email">Votre adresse électronique</label>'
        '<input type="email" id="usager_email" name="usager_email" required></div>'
        + render_fields(platform.demarche, {})
        + '<button type="submit">Déposer le dossier</button></form>'
    )
    return _PAGE.format(title=f"Déposer un dossier – {escape(platform.demarche.title)}",
                        content=content)


def _dossier_page(platform: Platform, record: DossierRecord, notice: str | None = None,
                  error: str | None = None) -> str:
    state = STATE_LABELS.get(record.state, record.state)
    messages = platform.store.messages(record.number)
    pending = [m for m in messages if m.pending_correction]
    parts = [_banner("succes", notice), _banner("erreur", error),
             f'<p>État : <strong class="etat">{escape(state)}</strong> — déposé par '
             f"{escape(record.usager_email)} le {_date(record.depose_at)}.</p>"]
    for message in pending:
        parts.append(
            '<div class="alerte"><h2>Demande de correction en attente</h2>'
            f"<p>Message de l’administration du {_date(message.created_at)} :</p>"
            f"<blockquote>{escape(message.body)}</blockquote>"
            "<p>Corrigez votre dossier ci-dessous puis enregistrez : la demande sera "
            "marquée comme traitée.</p></div>")
    if messages:
        items = "".join(f"<li>{_date(m.created_at)} — {escape(m.body)}</li>" for m in messages)
        parts.append(f"<h2>Messagerie</h2><ul>{items}</ul>")
    if record.state == EN_CONSTRUCTION:
        parts.append(
            f'<h2>Votre dossier</h2><form method="post" action="/_standin/dossiers/{record.number}'
            '/usager" enctype="multipart/form-data">'
            + render_fields(platform.demarche, record.champs)
            + '<button type="submit">Enregistrer les modifications</button></form>'
            f'<form method="post" action="/_standin/dossiers/{record.number}/usager/supprimer">'
            '<button type="submit">Supprimer le dossier</button></form>')
    else:
        parts.append(f"<p>Le dossier n’est plus modifiable : il est {escape(state)}.</p>")
    return _PAGE.format(title=f"Dossier n° {record.number}", content="\n".join(parts))


def _banner(kind: str, text: str | None) -> str:
    return f'<p class="{kind}" role="status">{escape(text)}</p>' if text else ""


def _date(instant_us: int) -> str:
    return f"{from_us(instant_us).astimezone(PARIS):%d/%m/%Y à %H:%M}"

"""Routes of the personal links: ``/cra/avis/{token}`` (GET the page, POST the opinion) and
its confirmation. Thin: admission and audit in ``desk``, the answer in ``answers``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.cra import answers, views
from api.cra.audit import Action, Outcome
from api.cra.desk import CraDesk
from api.cra.form import OpinionForm

router = APIRouter(prefix="/cra/avis", include_in_schema=False)


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/{token}")
async def show(token: str, request: Request, desk: CraDesk) -> Response:
    async with desk.visit(token, _address(request), Action.VIEW) as opened:
        if not opened.consultation.open:  # the outcome only: not the dossier as it is now
            opened.visit.outcome = Outcome.SHOWN_CLOSED
            return views.closed_page(desk.state.pages, opened)
        summary = await desk.dossiers.summary(opened.claims.dossier)
        opened.visit.outcome = Outcome.SHOWN
        form = OpinionForm.prefilled(opened.consultation.opinion)
        return views.form_page(desk.state.pages, opened, summary, form,
                               desk.state.guard.csrf_token(token))


@router.post("/{token}")
async def submit(token: str, request: Request, desk: CraDesk) -> Response:
    async with desk.visit(token, _address(request), Action.SUBMIT) as opened:
        form = await answers.read_form(request, desk.state.settings.cra_pages.max_form_bytes)
        answers.verify_form(desk, request, token, form)
        return await answers.answer(desk, opened, form)


@router.get("/{token}/confirmation")
async def confirmation(token: str, request: Request, desk: CraDesk) -> Response:
    async with desk.visit(token, _address(request), Action.VIEW) as opened:
        opened.visit.outcome = Outcome.SHOWN
        if opened.consultation.opinion is None:
            return RedirectResponse(f"/cra/avis/{token}", status_code=303)
        return views.confirmation_page(desk.state.pages, opened)

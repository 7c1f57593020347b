"""Taking an opinion: the steps between a posted form and the workflow's Update.

A confirmation is shown only after the workflow accepted the Update (Post/Redirect/Get). A
double submit records one opinion: an identical resubmission sends nothing, and concurrent
identical posts share one Update id, which Temporal applies once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.cra import views
from api.cra.audit import Outcome
from api.cra.consultation import ConsultationClosed
from api.cra.desk import Desk, Opened
from api.cra.errors import FormNotVerified, FormTooLarge
from api.cra.form import OpinionForm, unchanged
from api.hardening import allowed_origins


async def read_form(request: Request, limit: int) -> OpinionForm:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FormTooLarge("declared body too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise FormTooLarge("body too large")
    return OpinionForm.parse(bytes(body))


def verify_form(desk: Desk, request: Request, token: str, form: OpinionForm) -> None:
    guard = desk.state.guard
    allowed = allowed_origins(desk.state.settings)  # never the Host header
    if not guard.same_origin(request.headers.get("origin"), request.headers.get("referer"),
                             allowed):
        raise FormNotVerified("cross-origin post")
    if not guard.csrf_ok(token, form.csrf_token):
        raise FormNotVerified("missing or foreign csrf token")


def confirmation_url(token: str) -> str:
    return f"/cra/avis/{token}/confirmation"


async def answer(desk: Desk, opened: Opened, form: OpinionForm) -> Response:
    pages, visit, consultation = desk.state.pages, opened.visit, opened.consultation
    if not consultation.open:
        visit.outcome = Outcome.CLOSED
        return await _closed(desk, opened)
    submission, errors = form.validate(opened.claims.member)
    if submission is None:
        visit.outcome = Outcome.INVALID_FORM
        summary = await desk.dossiers.summary(opened.claims.dossier)
        return views.form_page(pages, opened, summary, form, desk.state.guard.csrf_token(visit.token),
                               errors, status_code=422)
    if unchanged(submission, consultation.opinion):
        visit.outcome = Outcome.UNCHANGED
        return RedirectResponse(confirmation_url(visit.token), status_code=303)
    try:
        await desk.consultations.submit(opened.claims, submission, consultation.opinion)
    except ConsultationClosed:
        visit.outcome = Outcome.CLOSED
        return await _closed(desk, opened)
    visit.outcome = Outcome.ACCEPTED
    return RedirectResponse(confirmation_url(visit.token), status_code=303)


async def _closed(desk: Desk, opened: Opened) -> HTMLResponse:
    fresh = await desk.consultations.load(opened.claims, datetime.now(UTC))
    reopened = Opened(opened.visit, opened.claims, fresh)
    return views.closed_page(desk.state.pages, reopened, refused=True)

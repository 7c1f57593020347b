"""BESSII's pages: ``/agents`` (dossiers by stage), ``/agents/dossiers/{n}`` and its three forms.

Post/Redirect/Get: an accepted action redirects to the dossier page with a confirmation; a
refusal by the workflow (or an invalid form) shows the page again with the message, status 409
(or 422), and nothing changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from api.agents import actions, view
from api.agents.api_routes import Desk
from api.agents.dossiers import DossierDesk
from api.auth.deps import PageAgent, check_form
from api.auth.session import AgentSession
from api.auth.state import AuthState, auth_state
from api.errors import Refused
from api.routes.idempotency import new_key, valid
from core.db.engine import Database
from core.domain.procedure import Stage

router = APIRouter(prefix="/agents", include_in_schema=False)
State = Annotated[AuthState, Depends(auth_state)]
DONE = {"recevabilite": "La recevabilité a été enregistrée.",
        "eligibilite": "Les critères d’éligibilité ont été enregistrés.",
        "decision": "La décision a été enregistrée : elle va être notifiée au porteur de projet."}
ORDER = [Stage.ADMISSIBILITY, Stage.INSTRUCTION, Stage.AWAITING_CORRECTION, Stage.RECEIVED,
         Stage.NOTIFICATION, Stage.CLOSED]


@router.get("")
async def dossier_list(state: State, session: PageAgent, desk: Desk) -> Response:
    rows = await desk.rows()
    groups = [(stage, sorted((r for r in rows if r.stage is stage),
                             key=lambda r: (r.stage_deadline is None, r.stage_deadline, r.number)))
              for stage in ORDER]
    return state.pages.render("agents/list.html", session=session,
                              groups=[(s, g) for s, g in groups if g], total=len(rows))


async def _page(request: Request, state: AuthState, session: AgentSession, desk: DossierDesk,
                number: int, status_code: int = 200, **extra: Any) -> Response:
    db: Database = request.app.state.db
    dossier = await view.build(await desk.status(number), db)
    # Each rendering, a new token per form: a form posted twice (reload, double click) is one
    # request, applied once.
    context: dict[str, Any] = {"done": None, "refusal": None, "errors": {}, "form": {},
                               "failed": None, "form_token": new_key(), **extra}
    return state.pages.render("agents/dossier.html", status_code, session=session, d=dossier,
                              number=number, **view.labels(), **context)


@router.get("/dossiers/{number}")
async def dossier_page(request: Request, number: int, state: State, session: PageAgent,
                       desk: Desk, fait: str | None = None) -> Response:
    return await _page(request, state, session, desk, number, done=DONE.get(fait or ""))


Parse = Callable[[Any], tuple[Any, dict[str, str]]]
Act = Callable[[AgentSession, Any, str | None], Awaitable[object]]


async def _act(request: Request, state: AuthState, session: AgentSession, desk: DossierDesk,
               number: int, which: str, parse: Parse, act: Act) -> Response:
    form = await request.form()
    check_form(request, session, form.get("csrf_token"))
    key = valid(form.get("idempotency_key"))
    values = {k: v for k, v in form.items()
              if isinstance(v, str) and k not in ("csrf_token", "idempotency_key")}
    body, errors = parse(form)
    if body is None:
        return await _page(request, state, session, desk, number, 422, errors=errors,
                           form=values, failed=which)
    try:
        await act(session, body, key)
    except Refused as exc:
        return await _page(request, state, session, desk, number, 409, refusal=exc.message,
                           form=values, failed=which)
    return RedirectResponse(f"/agents/dossiers/{number}?fait={which}", status_code=303)


@router.post("/dossiers/{number}/recevabilite")
async def admissibility(request: Request, number: int, state: State, session: PageAgent,
                        desk: Desk) -> Response:
    return await _act(request, state, session, desk, number, "recevabilite",
                      actions.admissibility_form,
                      lambda s, b, k: desk.confirm_admissibility(
                          number, actions.admissibility(s.agent, b), k))


@router.post("/dossiers/{number}/eligibilite")
async def eligibility(request: Request, number: int, state: State, session: PageAgent,
                      desk: Desk) -> Response:
    return await _act(request, state, session, desk, number, "eligibilite",
                      actions.eligibility_form,
                      lambda s, b, k: desk.record_eligibility(
                          number, actions.eligibility(s.agent, b), k))


@router.post("/dossiers/{number}/decision")
async def decision(request: Request, number: int, state: State, session: PageAgent,
                   desk: Desk) -> Response:
    return await _act(request, state, session, desk, number, "decision", actions.decision_form,
                      lambda s, b, k: desk.record_decision(
                          number, actions.decision(s.agent, b), k))

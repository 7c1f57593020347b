"""The three pages of a link: the form (with the recorded opinion), the confirmation, and the
read-only outcome once the consultation is closed."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse

from api.cra.consultation import Consultation
from api.cra.desk import Opened
from api.cra.form import OpinionForm
from api.cra.pages import Pages
from api.cra.summary import DossierSummary

# Where the error summary's links lead: the first control of each field.
ANCHORS = {"opinion": "opinion-favourable", "motivation": "motivation",
           "criteria_assessment": "criteria_assessment",
           "appreciations": "appreciation_vision",
           "no_conflict_of_interest": "no_conflict_of_interest"}


def _common(opened: Opened, summary: DossierSummary | None) -> dict[str, Any]:
    consultation: Consultation = opened.consultation
    claims = opened.claims
    return {"token": opened.visit.token, "claims": claims, "number": claims.dossier,
            "region": claims.region, "member": consultation.members.get(claims.member),
            "consultation": consultation, "summary": summary}


def form_page(pages: Pages, opened: Opened, summary: DossierSummary | None, form: OpinionForm,
              csrf_token: str, errors: dict[str, str] | None = None,
              status_code: int = 200) -> HTMLResponse:
    return pages.render("cra/form.html", status_code, form=form, csrf_token=csrf_token,
                        errors=errors or {}, anchors=ANCHORS, **_common(opened, summary))


def confirmation_page(pages: Pages, opened: Opened) -> HTMLResponse:
    return pages.render("cra/confirmation.html", **_common(opened, None))


def closed_page(pages: Pages, opened: Opened, summary: DossierSummary | None,
                refused: bool = False) -> HTMLResponse:
    """``refused``: a submission arrived after the close (409) and was not recorded."""
    return pages.render("cra/closed.html", 409 if refused else 200, refused=refused,
                        **_common(opened, summary))

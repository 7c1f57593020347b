"""HTML rendering of the answer pages: Jinja2 templates under api/templates/cra, DSFR look.

Every page goes out with headers that keep the token where it is (no Referer to other sites,
no caching) and forbid scripts and framing: the pages need no JavaScript at all.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from core.domain.procedure import OPINION_LABELS, Opinion
from core.domain.regions import region_name
from core.rules.selection import APPRECIATION_LABELS, CRITERIA_GROUP_LABELS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    # same-origin: our own form post still carries its Origin, other sites never see the token.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}

try:
    _PARIS: ZoneInfo | None = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # no tz database on this host: show UTC
    _PARIS = None


def paris(moment: datetime | None, with_time: bool = True) -> str:
    """``27/11/2026 à 14 h 05`` in Paris time."""
    if moment is None:
        return ""
    local = moment.astimezone(_PARIS) if _PARIS else moment
    text = local.strftime("%d/%m/%Y")
    if with_time:
        text += local.strftime(" à %H h %M") + ("" if _PARIS else " (UTC)")
    return text


class Pages:
    def __init__(self, bessii_mailbox: str, read_grace_days: int, dsfr: bool) -> None:
        self._env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                                autoescape=select_autoescape(default=True, default_for_string=True))
        self._env.filters["paris"] = paris
        self._env.filters["region"] = region_name
        self._env.globals.update(
            dsfr=dsfr, bessii_mailbox=bessii_mailbox, read_grace_days=read_grace_days,
            opinions=[(o.value, OPINION_LABELS[o].capitalize()) for o in Opinion],
            opinion_labels={o.value: OPINION_LABELS[o] for o in Opinion},
            criteria_groups=[(g.value, label) for g, label in CRITERIA_GROUP_LABELS.items()],
            appreciations=[(a.value, label) for a, label in APPRECIATION_LABELS.items()],
            appreciation_labels={a.value: label for a, label in APPRECIATION_LABELS.items()})

    def render(self, template: str, status_code: int = 200,
               headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
        html = self._env.get_template(template).render(**context)
        return HTMLResponse(html, status_code, headers={**SECURITY_HEADERS, **(headers or {})})


def pages_of(request: Request) -> Pages:
    pages: Pages = request.app.state.cra.pages
    return pages

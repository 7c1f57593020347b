"""HTML rendering of BESSII's pages: templates under api/templates/agents, DSFR look, the same
security headers as the CRA pages (no script, no framing, no caching)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from api.cra.pages import SECURITY_HEADERS, TEMPLATES, paris
from core.domain.procedure import OPINION_LABELS, OUTCOME_LABELS, STAGE_LABELS, Stage
from core.domain.regions import region_name


def stage_label(value: str | None) -> str:
    if value is None:
        return "Inconnue"
    try:
        return STAGE_LABELS[Stage(value)]
    except ValueError:
        return value


class AgentPages:
    def __init__(self, dsfr: bool, dev_sign_in: bool, bessii_mailbox: str) -> None:
        self._env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                                autoescape=select_autoescape(default=True, default_for_string=True))
        self._env.filters["paris"] = paris
        self._env.filters["region"] = region_name
        self._env.filters["stage"] = stage_label
        self._env.globals.update(
            dsfr=dsfr, dev_sign_in=dev_sign_in, bessii_mailbox=bessii_mailbox,
            opinion_labels={o.value: label for o, label in OPINION_LABELS.items()},
            outcome_labels={o.value: label for o, label in OUTCOME_LABELS.items()})

    def template(self, name: str) -> Template:
        return self._env.get_template(name)

    def render(self, template: str, status_code: int = 200, session: Any = None,
               headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
        html = self._env.get_template(template).render(session=session, **context)
        return HTMLResponse(html, status_code, headers={**SECURITY_HEADERS, **(headers or {})})

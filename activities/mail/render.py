"""Jinja2 templates beside this module: ``<name>.subject.txt`` and ``<name>.txt``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from core.domain.procedure import OPINION_LABELS, OUTCOME_LABELS, STAGE_LABELS
from core.domain.regions import region_name

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=StrictUndefined,
    autoescape=False,  # text/plain emails
    keep_trailing_newline=True,
)
_ENV.filters["region"] = region_name


def _frdate(value: datetime | str | None) -> str:
    """Dates arrive as datetimes or, through JSON contexts, as ISO 8601 strings."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.strftime("%d/%m/%Y")


_ENV.filters["frdate"] = _frdate
_ENV.globals.update(
    opinion_labels={k.value: v for k, v in OPINION_LABELS.items()},
    outcome_labels={k.value: v for k, v in OUTCOME_LABELS.items()},
    stage_labels={k.value: v for k, v in STAGE_LABELS.items()},
)


def render(template: str, context: dict[str, Any]) -> tuple[str, str]:
    subject = _ENV.get_template(f"{template}.subject.txt").render(context).strip()
    body = _ENV.get_template(f"{template}.txt").render(context)
    return subject, body

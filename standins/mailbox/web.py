"""The web side: a French inbox page for humans and a JSON API for tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader

from standins.mailbox.schemas import Cleared, Faults, MessageOut
from standins.mailbox.store import MailStore, StoredMessage

_TEMPLATES = Path(__file__).parent / "templates"
# Served HTML bodies get an opaque origin and no scripts, even when opened outside the iframe.
_HTML_BODY_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"

try:
    _PARIS: ZoneInfo | None = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # no tz database on this host: show UTC
    _PARIS = None


def _local_time(moment: datetime) -> str:
    if _PARIS is None:
        return moment.strftime("%d/%m/%Y %H:%M:%S UTC")
    return moment.astimezone(_PARIS).strftime("%d/%m/%Y %H:%M:%S")


def _environment() -> Environment:
    environment = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=True)
    environment.filters["local_time"] = _local_time
    return environment


def create_web_app(db_path: Path) -> FastAPI:
    store = MailStore(db_path)
    templates = _environment()
    app = FastAPI(title="Boîte de réception locale", docs_url="/api/docs", redoc_url=None)

    def page(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(templates.get_template(name).render(**context), status_code)

    def found(message_id: int) -> StoredMessage:
        message = store.get(message_id)
        if message is None:
            raise HTTPException(404, f"Message {message_id} introuvable")
        return message

    @app.get("/", response_class=HTMLResponse)
    def inbox() -> HTMLResponse:
        return page("index.html", messages=store.search())

    @app.get("/messages/{message_id}", response_class=HTMLResponse)
    def message_page(message_id: int) -> HTMLResponse:
        message = store.get(message_id)
        if message is None:
            return page("not_found.html", status_code=404, message_id=message_id)
        return page("message.html", message=message)

    @app.get("/messages/{message_id}/html", response_class=HTMLResponse)
    def message_html(message_id: int) -> HTMLResponse:
        html = found(message_id).html or ""
        return HTMLResponse(html, headers={"Content-Security-Policy": _HTML_BODY_CSP})

    @app.get("/messages/{message_id}/raw", response_class=PlainTextResponse)
    def message_raw(message_id: int) -> Response:
        return Response(found(message_id).raw, media_type="text/plain; charset=utf-8")

    @app.post("/clear")
    def clear_from_page() -> RedirectResponse:
        store.clear()
        return RedirectResponse("/", status_code=303)

    @app.get("/api/messages")
    def list_messages(
        to: Annotated[str | None, Query(description="Substring of a recipient")] = None,
        subject: Annotated[str | None, Query(description="Substring of the subject")] = None,
    ) -> list[MessageOut]:
        return [MessageOut.of(m) for m in store.search(to=to, subject=subject)]

    @app.get("/api/messages/{message_id}")
    def get_message(message_id: int) -> MessageOut:
        return MessageOut.of(found(message_id))

    @app.delete("/api/messages")
    def clear_messages() -> Cleared:
        return Cleared(deleted=store.clear())

    @app.get("/api/faults")
    def get_faults() -> Faults:
        return Faults(reject_count=store.reject_count(), refused_recipients=store.refused())

    @app.post("/api/faults")
    def set_faults(faults: Faults) -> Faults:
        store.set_reject_count(faults.reject_count)
        store.set_refused(faults.refused_recipients)
        return faults

    return app

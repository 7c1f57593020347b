"""Home page and health check."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import AppSettings

router = APIRouter()


@router.get("/healthz", tags=["ops"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(settings: AppSettings) -> str:
    workflows = f"{settings.temporal.ui_url}/namespaces/{settings.temporal.namespace}/workflows"
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>AMI PTCE – service des dossiers</title></head><body>
<h1>AMI PTCE – service des dossiers</h1>
<ul>
<li><a href="/agents">Espace des agents du BESSII (dossiers, recevabilité, décisions)</a></li>
<li><a href="{workflows}">Suivre les dossiers dans Temporal UI</a></li>
<li><a href="/docs">Documentation de l’API</a></li>
</ul></body></html>"""

"""Loads the CRA directory from a JSON file (the demo pairs ship in core/data)."""

from __future__ import annotations

import json
from pathlib import Path

from core.db.engine import Database
from core.db.repositories import CraMemberRepository

DEMO_CRA_FILE = Path(__file__).parent.parent / "data" / "cra_members_demo.json"


async def load_cra_members(db: Database, path: Path = DEMO_CRA_FILE) -> int:
    members: list[dict[str, str]] = json.loads(path.read_text())["members"]
    async with db.unit_of_work() as session:
        await CraMemberRepository(session).upsert_all(members)
    return len(members)

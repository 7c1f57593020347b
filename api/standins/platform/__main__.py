"""``python -m api.standins.platform``: the platform stand-in on a local port."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from api.standins.platform.app import DEFAULT_INSTRUCTEUR_ID, serve


def main() -> None:
    parser = argparse.ArgumentParser(description="Local stand-in of the platform GraphQL API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8030)
    parser.add_argument("--db", type=Path, default=Path("var/platform.sqlite3"))
    parser.add_argument("--token", default="jeton-local")
    parser.add_argument("--instructeur-id", default=DEFAULT_INSTRUCTEUR_ID)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve(args.host, args.port, args.db, args.token, args.instructeur_id)


if __name__ == "__main__":
    main()

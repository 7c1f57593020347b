"""``python -m standins.platform``: the platform stand-in on a local port.

Defaults come from the service's settings (the same token, instructeur and SQLite file as
``ptce standin platform``), so the worker talks to it unchanged; ``--rate-limit-per-minute``
adds the platform's throttling (400 per token and minute in production by default).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from urllib.parse import urlsplit

from core.settings import get_settings
from standins.platform.app import serve


def main() -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(description="Local stand-in of the platform GraphQL API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=urlsplit(settings.platform.graphql_url).port or 8100)
    parser.add_argument("--db", type=Path, default=settings.var_dir / "platform.db")
    parser.add_argument("--token", default=settings.platform.token.get_secret_value())
    parser.add_argument("--instructeur-id", default=settings.platform.instructeur_id)
    parser.add_argument(
        "--rate-limit-per-minute", type=int, default=None,
        help="GraphQL requests per token and minute before HTTP 429 (the platform: 400); none by default",
    )
    parser.add_argument(
        "--forward-emails", action="store_true",
        help="hand the platform's own emails to applicants to the local mailbox (PTCE_SMTP__…)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    forward = (settings.smtp.host, settings.smtp.port) if args.forward_emails else None
    serve(args.host, args.port, args.db, args.token, args.instructeur_id, args.rate_limit_per_minute,
          forward)


if __name__ == "__main__":
    main()

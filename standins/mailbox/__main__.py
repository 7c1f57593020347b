"""``python -m standins.mailbox``: the local SMTP sink and its web inbox."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from standins.mailbox.runner import serve


def main() -> None:
    parser = argparse.ArgumentParser(description="Local SMTP sink with a web mailbox.")
    parser.add_argument("--smtp-host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--web-host", default="127.0.0.1")
    parser.add_argument("--web-port", type=int, default=8025)
    parser.add_argument("--db", type=Path, default=Path("var/mailbox.sqlite3"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve(args.smtp_host, args.smtp_port, args.web_host, args.web_port, args.db)


if __name__ == "__main__":
    main()

"""A Mailpit-like stand-in for the embedded dev stack: an SMTP sink plus a web inbox.

Every message is accepted and kept in SQLite; ``POST /api/faults`` makes the next
transactions fail with ``451`` so chaos tests can exercise the sender's retries.
"""

from standins.mailbox.runner import RunningMailbox, run_mailbox, serve, start_mailbox
from standins.mailbox.store import MailStore, StoredMessage
from standins.mailbox.web import create_web_app

__all__ = [
    "MailStore",
    "RunningMailbox",
    "StoredMessage",
    "create_web_app",
    "run_mailbox",
    "serve",
    "start_mailbox",
]

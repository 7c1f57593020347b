"""``python -m standins platform|mailbox [options]``: one stand-in in its own process.

Its modules load with the collector off and are then frozen (core/startup.py): a process of the
embedded stack starts (and stops) in less time, which the process tests do a dozen times.
"""

from __future__ import annotations

import importlib
import sys

from core.startup import loading

STANDINS = ("platform", "mailbox")


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in STANDINS:
        print(f"usage: python -m standins {{{','.join(STANDINS)}}} [options]", file=sys.stderr)
        raise SystemExit(2)
    name = sys.argv.pop(1)
    sys.argv[0] = f"standins.{name}"
    with loading():
        entry = importlib.import_module(f"standins.{name}.__main__")
    entry.main()


if __name__ == "__main__":
    main()

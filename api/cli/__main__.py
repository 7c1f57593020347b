"""``python -m api.cli``: the ``ptce`` command (what the process stack starts its children with)."""

from api.cli.entry import main

main()

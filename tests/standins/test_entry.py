"""``python -m standins NAME``: the stand-ins' own processes, as ``ptce standin …`` and the
embedded stack start them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from api.cli.dev import Child, terminate, wait_for_port
from api.cli.ports import free_port


def test_without_a_known_stand_in_it_says_which_exist() -> None:
    done = subprocess.run([sys.executable, "-m", "standins", "nothing"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert "usage: python -m standins {platform,mailbox}" in done.stderr


def test_ptce_standin_mailbox_runs_the_sink_with_the_settings_smtp_port(tmp_path: Path) -> None:
    smtp, web = free_port(), free_port()
    env = {**os.environ, "PTCE_ENVIRONMENT": "test", "PTCE_VAR_DIR": str(tmp_path),
           "PTCE_SMTP__PORT": str(smtp)}
    child = Child("mailbox", [sys.executable, "-m", "api.cli", "standin", "mailbox",
                              "--web-port", str(web)], web)
    child.process = subprocess.Popen(child.args, env=env, start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port("127.0.0.1", web, child)
        wait_for_port("127.0.0.1", smtp, child)
        assert (tmp_path / "mailbox.db").is_file()  # under the settings' var dir
    finally:
        terminate([child])

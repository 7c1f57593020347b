"""The benchmark's own measures: CPU seconds of a process tree, read from /proc."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.cpu import CpuMeter

BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass\n"
# A parent that runs a child burning half a second of CPU, then idles: the child's time counts.
PARENT = f"import subprocess, sys, time\nsubprocess.run([sys.executable, '-c', {BURN!r}])\ntime.sleep(60)"


def test_cpu_seconds_of_a_process_include_its_children() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT])
    try:
        meter = CpuMeter({"tree": parent.pid}).start()
        deadline = time.monotonic() + 30
        while (used := meter.stop()["tree"]) < 0.5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert 0.5 <= used < 3
    finally:
        parent.kill()
        parent.wait()

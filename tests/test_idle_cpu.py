"""Every stage's server sleeps while nothing happens, instead of spinning on Pump()."""
import os
import time

import pytest

from harness import POSIX_AND_WINDOWS, REPORT, STAGES

pytestmark = POSIX_AND_WINDOWS  # every test here runs with the servers as on Windows too

WINDOW = 1.0  # seconds of idle time measured: a measurement window, not a wait


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads Linux's /proc")
@pytest.mark.parametrize("stage", STAGES)
def test_idle_server_uses_almost_no_cpu(stage, start_server, connect):
    server = start_server(stage)
    players = [connect(server.port), connect(server.port)]  # connected, then idle
    players[1].echo()
    before, started = cpu_seconds(server.proc.pid), time.monotonic()
    time.sleep(WINDOW)
    share = (cpu_seconds(server.proc.pid) - before) / (time.monotonic() - started)
    REPORT.setdefault("idle_cpu", {})[stage] = share
    # The original's loop, Pump() then sleep(0.0001), measured 18% of a core here.
    assert share < 0.05

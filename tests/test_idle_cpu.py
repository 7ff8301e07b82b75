"""Every stage's server sleeps while nothing happens, instead of spinning on Pump().

It still wakes at least once a second, so that a stop swallowed on the way is
seen, and so that Ctrl+C gets through as on Windows (where a signal does not
wake select()): an idle server's loop keeps turning.
"""
import os
import signal
import time

import pytest

from harness import POSIX_AND_WINDOWS, REPORT, STAGES, cpu_seconds, wait_until

pytestmark = [POSIX_AND_WINDOWS,  # every test here runs with the servers as on Windows too
              pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads Linux's /proc")]

WINDOW = 1.0  # seconds of idle time measured: a measurement window, not a wait
TURNS = 3     # turns an idle loop must make, each one a wait that ended by itself
SAMPLE_EVERY = 0.1  # seconds between two askings for the count: how often a condition is checked


def idle_share(server, players):
    """The server's share of a core over WINDOW, with the players connected and still."""
    players[-1].echo()
    before, started = cpu_seconds(server.proc.pid), time.monotonic()
    time.sleep(WINDOW)
    return (cpu_seconds(server.proc.pid) - before) / (time.monotonic() - started)


@pytest.mark.parametrize("stage", STAGES)
def test_idle_server_uses_almost_no_cpu(stage, start_server, connect):
    server = start_server(stage)
    share = idle_share(server, [connect(server.port), connect(server.port)])
    REPORT.setdefault("idle_cpu", {})[stage] = share
    assert share < 0.05


def test_the_benchmarks_baseline_is_podsixnets_spinning_loop(start_server, connect):
    """make bench's baseline row: stage 5's server, its loop swapped for PodSixNet's own
    (tests/run_as.py --podsixnet-loop). It still serves a game, and it never sleeps
    until a socket is ready, so it uses more of a core than stage 5 does while idle."""
    shares = {}
    for loop in (False, True):
        server = start_server("stage5_optimized", podsixnet_loop=loop)
        mover, watcher = players = [connect(server.port), connect(server.port)]
        shares[loop] = idle_share(server, players)
        mover.send_now({"action": "move", "gameID": 0, "player": 0, "dx": 1, "dy": 0})
        assert watcher.wait_for("position")["player"] == 0  # served as before
    REPORT.setdefault("idle_cpu", {})["stage5_optimized, PodSixNet's loop"] = shares[True]
    assert shares[True] > shares[False]


@pytest.mark.parametrize("stage", STAGES)
def test_an_idle_server_still_turns_its_loop(stage, start_server):
    # tests/run_as.py --turns counts the loop's waits, and prints the count on
    # SIGUSR1; the signal itself does not end a wait (Python resumes it). With
    # nobody connected, only the wait's own timeout of a second can end one.
    server = start_server(stage, turns=True)
    counts = []

    def ask_for_the_count():
        after = len(server.out.lines)
        server.proc.send_signal(signal.SIGUSR1)
        counts.append(int(server.out.wait_for(r"^turns: (\d+)$", after=after).group(1)))
        time.sleep(SAMPLE_EVERY)

    ask_for_the_count()
    wait_until(lambda: counts[-1] >= counts[0] + TURNS,
               lambda: f"{TURNS} turns of an idle loop; counted {counts[0]}, then {counts[-1]}",
               step=ask_for_the_count)
    assert server.account() == {}  # nobody came: no client woke it

"""Churn, every stage: 2000 comings and goings, and the server ends as it began.

Each cycle is one of: a newcomer who leaves while waiting; two who start a
game, then one leaves mid-game (the other must be told, and requeued) and
then the other; or one who connects and hangs up before reading a word.
Half the hang-ups are clean closes, half abrupt TCP resets (SO_LINGER 0).
After every cycle the server's account is back to its baseline, one game in
play. Nobody is ever paired with a player who has gone: every newcomer waits
first. At the end the game that played throughout has exact counts, the
server holds as many files and as much memory as before, and two newcomers
still pair at once.

A reset that arrives while the server has not yet read what that player sent
(a busy server) is the one hang-up the server reports as a lost connection.

The comings and goings are a class's: 64 laptops (loopback addresses), each
coming back again and again, faster than a class would, so the server runs with
--new-per-address 0 and --lines-per-address 0 (every line shown, for the test
to follow). Those rules have their own tests, in test_fair_share.py.
"""
import itertools
import os
import random
import signal

import pytest

from harness import REPORT, STAGES, Match, WireClient, newcomers_pair_at_once, stage_number, wait_until

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads Linux's /proc")

CYCLES = 2000
WARM_UP = 200  # cycles before the memory baseline: let Python's allocator settle
LAPTOPS = itertools.cycle([f"127.255.0.{number}" for number in range(1, 65)])
UNLIMITED = ("--new-per-address", 0, "--lines-per-address", 0)


def newcomer(server):
    return WireClient(server, host=next(LAPTOPS))


def leave(server, client, rng):
    client.close(reset=rng.random() < 0.5)
    client.wait_logged(r"left \(")


def leaves_while_waiting(server, rng):
    client = newcomer(server)
    client.wait_for("waiting" if stage_number(server.stage) >= 2 else "connected")
    leave(server, client, rng)


def leaves_mid_game(server, rng):
    first = newcomer(server)
    if stage_number(server.stage) >= 2:
        first.wait_for("waiting")  # the queue was empty: nobody who has gone was in it
    second = newcomer(server)
    if stage_number(server.stage) < 2:
        return [leave(server, client, rng) for client in (first, second)]
    for player in (first, second):
        player.wait_for("startgame")
    leaver, stayer = rng.sample([first, second], 2)
    leave(server, leaver, rng)
    stayer.wait_for("waiting", 2 if stayer is first else 1)
    assert stayer.actions()[-2:] == ["opponentleft", "waiting"]  # told, then back in the queue
    leave(server, stayer, rng)


def hangs_up_at_once(server, rng):
    leave(server, newcomer(server), rng)


CYCLE_KINDS = [leaves_while_waiting, leaves_mid_game, hangs_up_at_once]


def process_state(pid):
    """R running, S sleeping, T stopped, ...: from Linux's /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


@pytest.mark.parametrize("stage", STAGES)
def test_2000_comings_and_goings_leave_the_server_as_it_began(stage, start_server):
    server = start_server(stage, *UNLIMITED)
    match = Match(server)  # plays throughout
    baseline = {"connected": 2, "waiting": 0, "games": 1} if stage_number(stage) >= 2 else {"connected": 2}
    rng = random.Random(stage)  # the same cycles every run
    server.wait_for_account(**baseline)  # both players accepted, so both their sockets counted
    files = server.open_files()
    for cycle in range(CYCLES):
        if cycle == WARM_UP:
            memory = server.memory_kib()
        rng.choice(CYCLE_KINDS)(server, rng)
        assert server.account() == baseline, f"cycle {cycle}: {server.account()}"
        if cycle % 20 == 0:
            match.play()
    grown = server.memory_kib() - memory
    REPORT.setdefault("churn", {})[stage] = grown
    assert grown < 1024, f"the server grew by {grown} KiB over {CYCLES - WARM_UP} cycles"
    # The server logs "left" just before asyncore closes that socket, so wait for the last close.
    wait_until(lambda: server.open_files() == files, f"the server to hold {files} files again")
    match.check()
    newcomers_pair_at_once(server, connected=2, games=1)


@pytest.mark.parametrize("stage", STAGES)
def test_a_reset_that_finds_bytes_unread_is_reported_as_a_lost_connection(stage, start_server):
    # A player's bytes wait unread (the server is busy; here it is stopped, as a
    # loaded machine might leave it) when the player's reset arrives. poll() then
    # says "readable" and "error" at once: the server reads the bytes, then closes
    # the channel in handle_close(), the reset still in the socket's SO_ERROR, and
    # only handle_close() says why. (A reset that finds nothing unread makes
    # recv() fail with ECONNRESET, which asyncore takes for a plain hang-up.)
    server = start_server(stage)
    match = Match(server)  # plays throughout
    player = WireClient(server)
    player.echo()  # the server has read all it sent so far, its hello too
    server.proc.send_signal(signal.SIGSTOP)
    try:
        wait_until(lambda: process_state(server.proc.pid) == "T", "the server to stop")
        player.send_bytes(b"half a message")  # no end marker: nothing for the server to act on
        player.close(reset=True)
        wait_until(lambda: player.tcp_end() is None, "the reset to reach the server's socket")
    finally:
        server.proc.send_signal(signal.SIGCONT)
    player.wait_logged(r"left \(")
    assert player.logged("lost its connection") == [f"{player.name} lost its connection (Connection reset by peer)"], server.out.text()
    match.play()
    match.check()
    newcomers_pair_at_once(server, connected=2, games=1 if stage_number(stage) >= 2 else 0)

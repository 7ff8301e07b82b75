"""Every stage survives more connections than select() can watch, and than a laptop lets it open.

PodSixNet's own Server.Pump() watches its sockets with select(), which dies
with "filedescriptor out of range" past about 1020 open connections, taking
every game with it. The stages wait with poll instead, and refuse players
past the files the system lets them open, less a margin of 24: 1000 under the
common limit of 1024 open files per process. So accept() never fails for want
of files. The flood comes from many loopback addresses, as from a classroom of
machines: from one, each server takes only --per-address connections.

Windows has no poll, and its select() watches at most 512 sockets: there the
servers wait with select() and refuse players past 511, so they never ask it
to watch more ("ValueError: too many file descriptors in select()").

A teacher's --max-players N admits exactly N players, refuses the next, and
admits another once a place is free.
"""
import resource
import socket

import pytest

from harness import (HELLO, LOOPBACK, POSIX_AND_WINDOWS, STAGES, WINDOWS_MAX_PLAYERS, WireClient, encode,
                     stage_number, wait_until)


def newcomer(port):
    """A connection from an address of its own, that says hello at once, as game.py does:
    a connection silent for a few seconds is closed."""
    sock = socket.create_connection(("127.0.0.1", port), source_address=(next(LOOPBACK), 0))
    try:
        sock.sendall(encode(HELLO))
    except OSError:
        pass  # refused, and closed already
    return sock

pytestmark = POSIX_AND_WINDOWS  # every test here runs with the servers as on Windows too

FLOOD = 1100
CAP = 3  # a teacher's --max-players


@pytest.fixture
def enough_files_for_the_flood():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < FLOOD + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, FLOOD + 100), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize("stage", STAGES)
def test_a_flood_of_connections_is_refused_past_the_cap_and_games_go_on(
        stage, as_windows, start_server, connect_pair, enough_files_for_the_flood):
    server = start_server(stage, file_limit=1024)
    cap = WINDOWS_MAX_PLAYERS if as_windows else 1000
    if as_windows:  # the server says so as it starts
        server.out.wait_for(f"select\\(\\) watches at most 512 sockets, so this server takes at most {cap} players")
    players = connect_pair(server)
    flood = [newcomer(server.port) for _ in range(FLOOD)]
    try:
        server.out.wait_for(rf"refused: the server is full \({cap} players\)")
        for player in players:
            player.echo()  # the game that was playing is still served
    finally:
        for sock in flood:
            sock.close()

    def answered():
        return [line for line in server.out.lines if " joined (" in line or " refused:" in line]

    wait_until(lambda: len(answered()) == FLOOD + 2, "every connection to join or be refused")
    assert "accept" not in server.out.text()  # PodSixNet's warning when accept() fails
    queue = {"waiting": 0, "games": 1} if stage_number(stage) >= 2 else {}
    server.wait_for_account(connected=2, **queue)


@pytest.mark.parametrize("stage", STAGES)
def test_max_players_admits_exactly_that_many_and_refuses_the_next(stage, as_windows, start_server):
    server = start_server(stage, "--max-players", CAP)
    players = []
    for number in range(CAP):  # one at a time: each is admitted before the next comes
        players.append(WireClient(server))
        players[-1].wait_for("connected")
        server.wait_for_account(connected=number + 1)
    refused = WireClient(server)
    refused.wait_closed()
    refused.wait_logged(rf"refused: the server is full \({CAP} players\)$")
    assert refused.inbox == [] and not refused.logged(r"joined \(")
    for player in players:
        player.echo()  # all of them still served
    players[0].close()
    players[0].wait_logged(r"left \(")
    players[0] = WireClient(server)  # a place is free again: the next is admitted
    players[0].wait_for("connected")
    server.wait_for_account(connected=CAP)
    for player in players:
        player.close()

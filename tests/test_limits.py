"""Limits, every stage: no client can make the server hold more for it than a small bound.

  * A client that sends megabytes and never the end marker is cut off once
    it has sent MAX_MESSAGE_BYTES (64 KiB), and the server's memory stays flat.
  * A player who stops reading, while the server still has moves to tell it,
    is cut once MAX_UNSENT_BYTES (64 KiB) wait unsent for it, or once its
    TCP window has been shut for 10 s (TCP_USER_TIMEOUT); its opponent is
    told and goes back to the queue. As on Windows, which has no
    TCP_USER_TIMEOUT, the 64 KiB rule alone cuts it; on Linux, with less than
    64 KiB waiting, TCP_USER_TIMEOUT alone does.
  * A client that floods the server as fast as it can does not starve the
    other games: their rounds are served while the flood is still arriving.
  * A flood of messages the server drops does not flood its console either:
    it logs the first, then at most one line a second with a count.
Meanwhile another game plays, and afterwards its counts are exact.

The floods here run with --messages-per-second 0 (UNTHROTTLED): they test the
4 KiB read a turn and the cut of a stalled reader, and under the budget of 600
messages a second that each client has by default, a flood of 50 000 would take
83 s to read. The budget has its own tests, in test_fair_share.py.
"""
import os
import socket
import statistics
import time

import pytest

from harness import (DROPPED, REPORT, STAGES, TERMINATOR, Match, WireClient, dumps, encode,
                     newcomers_pair_at_once, stage_number, wait_until)

LIMIT = 65536     # MAX_MESSAGE_BYTES and MAX_UNSENT_BYTES in every server.py
JUNK_MIB = 8      # what each oversized client tries to send
ECHO_BYTES = 60000  # a big echo: a few hundred of them fill the kernel's buffers for a connection
MOST_ECHOED = 256 << 20  # bytes of echoes a stalled reader may ask for before the test gives up
SMALL_ECHO = 16000  # a few of these waiting in the server are still under 64 KiB
ZERO_WINDOW_PROBE = 4  # /proc/net/tcp's timer while the peer's window is shut
JUNK_CLIENTS = 5
FLOOD = 50000     # rounds the flooding client sends in one go
# How a player who stops reading is let go: by the server, once 64 KiB wait unsent
# for it, or by the system, once its TCP window has been shut for 10 s (TCP_USER_TIMEOUT,
# in VANISHING in every server.py), whichever comes first: on a busy machine, the second.
CUT = rf"(left {LIMIT} bytes unread; closing its connection|lost its connection \(Connection timed out\))$"
UNTHROTTLED = ("--messages-per-second", 0)  # no budget: every message read as fast as 4 KiB a turn allows


def echo_of_size(size):
    """An echo message that takes exactly `size` bytes, end marker excluded."""
    text = "x" * (size - len(dumps({"action": "echo", "text": ""})))
    while len(dumps({"action": "echo", "text": text})) > size:  # the length's digits grow too
        text = text[:-1]
    raw = dumps({"action": "echo", "text": text})
    assert len(raw) == size
    return raw


@pytest.fixture
def with_a_game(start_server):
    """with_a_game(stage, *options) -> (its server, a Match in play that must not notice the test)."""
    def start(stage, *options):
        server = start_server(stage, *options)
        return server, Match(server)
    return start


def back_to_one_game(server, match):
    """The other game's counts are exact, the queue is clean, and the account says so."""
    match.check()
    queue = {"waiting": 0, "games": 1} if stage_number(server.stage) >= 2 else {}
    server.wait_for_account(connected=2, **queue)
    newcomers_pair_at_once(server, connected=2, games=1)


@pytest.mark.parametrize("stage", STAGES)
def test_a_message_of_the_limit_is_served_and_one_byte_more_is_cut(stage, with_a_game):
    server, match = with_a_game(stage)
    longest, too_long = WireClient(server), WireClient(server)
    longest.send_bytes(echo_of_size(LIMIT) + TERMINATOR)
    assert len(longest.wait_for("echo")["text"]) > 60000
    too_long.send_bytes(echo_of_size(LIMIT + 1) + TERMINATOR)
    too_long.wait_closed()
    too_long.wait_logged(f"sent {LIMIT} bytes and no end marker; closing its connection")
    longest.close()
    match.play()
    back_to_one_game(server, match)


@pytest.mark.parametrize("stage", STAGES)
def test_megabytes_without_an_end_marker_are_cut_off_and_memory_stays_flat(stage, with_a_game):
    server, match = with_a_game(stage)
    match.play()
    before = server.memory_kib()
    chunk = b"x" * (1 << 20)
    for _ in range(JUNK_CLIENTS):
        junk = WireClient(server)
        try:
            for _ in range(JUNK_MIB):
                junk.send_bytes(chunk)
        except OSError:
            pass  # the server hung up while the junk was still going: as it should
        junk.wait_closed()
        junk.wait_logged(f"sent {LIMIT} bytes and no end marker; closing its connection")
        match.play()
    grown = server.memory_kib() - before
    REPORT.setdefault("junk", {})[stage] = grown
    assert grown < 1024, f"the server grew by {grown} KiB after {JUNK_CLIENTS} x {JUNK_MIB} MiB of junk"
    back_to_one_game(server, match)


def flood_until_cut(moving, stalled, survivor):
    """The mover sends moves until the server cuts the stalled player; returns how many.

    It sends them a thousand at a time, and waits for the survivor to hear of
    each batch before it sends the one after next. So at most two batches are
    on their way when the cut comes: the server is never left with a backlog
    that takes a slower machine longer to read than a test may wait.
    """
    mover, batch, sent = moving.players[0], 1000, 0

    def cut():  # its leaving line, whatever let it go: CUT says which it must be
        return stalled.logged(r"left \(")

    def batches_heard():  # an echo ends each batch; a stalled mover's opponent counts its moves
        if survivor is mover:
            return mover.count("echo")
        return survivor.count(moving.reply) // batch

    while not cut():
        assert sent < 1_000_000, "a million moves, and the stalled player is still being sent them"
        try:
            mover.send_bytes(moving.batch(batch) + encode({"action": "echo", "text": "batch"}))
        except OSError:
            break  # the stalled one was the mover, and the server has hung up on it
        sent += batch
        wait_until(lambda: batches_heard() >= sent // batch - 1 or cut(),
                   lambda: f"the survivor to hear of batch {sent // batch - 1} (the server's last "
                           f"lines about the stalled player: {stalled.logged('')[-3:]})")
    return sent


@pytest.mark.parametrize("stage, who", [("stage4_relay", "opponent"), ("stage4_relay", "mover"),
                                        ("stage5_optimized", "opponent")])
def test_a_player_who_stops_reading_is_cut_and_the_opponent_requeued(stage, who, with_a_game):
    server, match = with_a_game(stage, *UNTHROTTLED)
    moving = Match(server)
    mover, opponent = moving.players
    stalled, survivor = (opponent, mover) if who == "opponent" else (mover, opponent)
    stalled.stall()  # a frozen window: the server's messages pile up unread
    moves = flood_until_cut(moving, stalled, survivor)
    REPORT.setdefault("stalled", {})[stage, who] = moves
    stalled.wait_logged(CUT)
    assert survivor.wait_for("opponentleft")
    assert survivor.wait_for("waiting")  # back in the queue, for the next newcomer
    server.wait_for_account(connected=3, waiting=1, games=1)
    match.play()
    survivor.close()
    back_to_one_game(server, match)


@pytest.mark.parametrize("as_windows", [True], ids=["windows"])  # no TCP_USER_TIMEOUT to cut it first
@pytest.mark.parametrize("stage", STAGES)
def test_as_on_windows_a_stalled_reader_is_cut_once_64_kib_wait_unsent(stage, as_windows, with_a_game):
    # The stalled client asks for big echoes of its own and never reads them: once
    # the kernel's buffers for it are full, the echoes pile up in the server, and
    # only the 64 KiB rule can let it go. Big echoes are few messages, so the
    # buffers fill in a few hundred of them.
    server, match = with_a_game(stage)
    stalled = WireClient(server)
    stalled.wait_for("connected")
    stalled.stall()
    echo, echoed = echo_of_size(ECHO_BYTES) + TERMINATOR, 0
    while not stalled.logged(r"left \("):
        assert echoed < MOST_ECHOED, f"{echoed >> 20} MiB echoed to a client that reads none, and it is still served"
        try:
            stalled.send_bytes(echo)
        except OSError:
            break  # the server has hung up on it
        echoed += len(echo)
    stalled.wait_logged(f"left {LIMIT} bytes unread; closing its connection$")
    assert not stalled.logged("lost its connection"), stalled.logged("")
    match.play()
    back_to_one_game(server, match)


@pytest.mark.skipif(not (hasattr(socket, "TCP_USER_TIMEOUT") and os.path.exists("/proc/net/tcp")),
                    reason="Linux's TCP_USER_TIMEOUT, watched through /proc")
def test_a_stalled_reader_under_64_kib_is_cut_by_tcp_user_timeout(with_a_game):
    # The stalled client asks for small echoes, one at a time, until the server's
    # socket probes a window shut to zero: its kernel buffers are full, while less
    # than 64 KiB wait in the server itself. The 64 KiB rule then never acts, and
    # only the socket options the server set (notice_vanishing) let the client go.
    server, match = with_a_game("stage5_optimized")
    stalled = WireClient(server)
    stalled.wait_for("connected")
    stalled.stall()
    echo, echoed = echo_of_size(SMALL_ECHO) + TERMINATOR, 0
    while stalled.tcp_end()["timer"] != ZERO_WINDOW_PROBE:
        assert echoed < MOST_ECHOED, f"{echoed >> 20} MiB echoed, and the window is still open"
        stalled.send_bytes(echo)
        echoed += len(echo)
        wait_until(stalled.all_read, "the server to read the echo")
        match.players[0].echo("after it")  # read later, so answered after the echo was sent on
    stalled.wait_logged(r"lost its connection \(Connection timed out\)$")  # after 10 s of it
    assert not stalled.logged("unread"), stalled.logged("")
    match.play()
    back_to_one_game(server, match)


def test_stage5_owes_a_mover_nothing_so_one_that_never_reads_stays(with_a_game):
    server, match = with_a_game("stage5_optimized", *UNTHROTTLED)
    moving = Match(server)
    moving.players[0].stall()  # sends, never reads: stage 5 sends it nothing anyway
    moving.flood(FLOOD).join()
    moving.players[1].wait_for("position", FLOOD)
    moving.players[1].echo("sync")
    assert moving.players[1].count("position") == FLOOD  # every move told to the opponent
    assert "unread" not in server.out.text()
    match.play()
    moving.close()
    back_to_one_game(server, match)


@pytest.mark.parametrize("stage", STAGES)
def test_a_flood_does_not_starve_the_other_games(stage, with_a_game):
    server, match = with_a_game(stage, *UNTHROTTLED)
    flooding = Match(server)
    told = flooding.players[1] if stage_number(stage) >= 4 else flooding.players[0]
    sender = flooding.flood(FLOOD)
    latencies = []
    for _ in range(30):  # the other game plays on, a round at a time
        started = time.perf_counter()
        match.play()
        latencies.append((time.perf_counter() - started) * 1000)
    heard = told.count(flooding.reply)
    assert heard < FLOOD, "the flood was over before the other game had played: nothing was tested"
    sender.join()
    flooding.check()  # and the flood itself was served in full, once each
    REPORT.setdefault("flood", {})[stage] = (statistics.median(latencies), max(latencies), heard)
    flooding.close()
    back_to_one_game(server, match)


@pytest.mark.parametrize("stage", STAGES)
def test_a_flood_of_dropped_messages_is_counted_not_logged_line_by_line(stage, with_a_game):
    server, match = with_a_game(stage, *UNTHROTTLED)
    flooder = WireClient(server)
    started = time.monotonic()
    flooder.send_bytes(encode({"action": "teleport"}) * FLOOD)  # an action no stage has
    flooder.echo("after the flood")  # every one of them has been handled
    seconds = time.monotonic() - started
    lines = len(flooder.logged(DROPPED))
    assert 1 <= lines <= 2 + seconds, f"{lines} lines in {seconds:.1f} s: more than one a second"
    match.play()
    flooder.close()
    flooder.wait_logged(r"left \(")
    assert flooder.drops_logged() == FLOOD  # the rest were counted as it left
    REPORT.setdefault("drops", {})[stage] = (FLOOD, lines, round(seconds, 2))
    back_to_one_game(server, match)

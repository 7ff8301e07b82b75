"""One laptop cannot spoil the class: each rule that keeps one machine to its fair share.

Every server.py's armour, with its defaults unless a test says otherwise:
  * a message whose dicts have a key that is not text is dropped before its
    dicts are built, so keys that share one hash cannot make decoding slow;
  * one address has at most --per-address connections at once, and opens at
    most --new-per-address new ones at once, then that many again each 10 s
    (one a second, with the default 10); a newcomer from another address
    still gets in;
  * a connection must send its first whole message within --message-seconds
    of connecting, and each later one within that of its first byte; a player
    who has spoken may then stay silent as long as it likes;
  * the player limit stays under the files the system lets the server open,
    and when accept() fails for want of files, the server says so once and
    stops watching for newcomers for a moment, instead of spinning;
  * a client is read at most --messages-per-second (and twice that at once):
    past that, the server stops reading it, and TCP makes it wait, so a
    flooder's opponent who reads slowly is never cut for what the flooder sent;
  * past --lines-per-address lines about one address (at once, then again each
    10 s), the console counts them, in one line a second that carries the
    account too;
  * whatever the console's encoding, a message cannot make the server print
    a traceback.
Most tests here connect from 127.0.0.1, one machine, where the rest of the suite
gives each client an address of its own (harness.LOOPBACK).
"""
import re
import resource
import socket
import threading
import time

import pytest

from harness import (MOVE_REPLY, STAGES, TERMINATOR, TIMEOUT, Match, WireClient, dumps, encode, stage_number, stages_from,
                     wait_until)

ONE_MACHINE = "127.0.0.1"
PER_ADDRESS = NEW_PER_ADDRESS = LINES_PER_ADDRESS = 10  # the defaults in every server.py
MESSAGES_PER_SECOND, BURST = 600, 1200
FILE_MARGIN = 24


def colliding_keys(count):
    """Tuples of -1 and -2 that all share one hash, in every process: hash(-1) == hash(-2)."""
    return [tuple(-1 - (number >> bit & 1) for bit in range(13)) for number in range(count)]


def flood_message(count=4000):
    """An echo that carries `count` such keys too: about 60 KiB, under the 64 KiB limit."""
    return {"action": "echo", "text": "collide", **dict.fromkeys(colliding_keys(count), 1)}


@pytest.mark.parametrize("stage", STAGES)
def test_a_message_with_keys_that_are_not_text_is_dropped_and_its_sender_kept(stage, start_server):
    server = start_server(stage)
    sender = WireClient(server)
    sender.send_message(flood_message(8))  # under the cap of values
    sender.wait_logged(r"sent .*: a key that is not text, \(-1, -1, -1.*; dropped$")
    nested = {"action": "echo", "text": "nested", "more": [{"ok": 1}, {5: "five"}]}
    sender.send_message(nested)  # a key in a dict inside a list is refused too
    sender.echo("still served")
    assert sender.count("echo") == 1  # neither echo was answered
    assert sender.drops_logged() >= 1


def connect_from_one_machine(server, count):
    return [WireClient(server, host=ONE_MACHINE) for _ in range(count)]


def wait_for_greeting(client):
    return client.wait_for("connected")


@pytest.mark.parametrize("stage", STAGES)
def test_one_address_has_at_most_its_share_of_connections(stage, start_server):
    server = start_server(stage, "--lines-per-address", 0)  # every line shown
    mine = connect_from_one_machine(server, PER_ADDRESS)
    for client in mine:
        assert wait_for_greeting(client)
    extra = WireClient(server, host=ONE_MACHINE)
    extra.wait_closed()
    assert extra.inbox == []  # refused before it was greeted
    extra.wait_logged(rf"refused: {PER_ADDRESS} connections from this address already \(--per-address\)$")
    newcomer = WireClient(server)  # another machine still gets in
    assert wait_for_greeting(newcomer)
    newcomer.echo()
    for client in mine:
        client.close()
    server.wait_for_account(connected=1)


@pytest.mark.parametrize("per_address", [0, 3])
def test_the_per_address_limit_has_its_flag_and_0_turns_it_off(per_address, start_server):
    server = start_server("stage2_queue", "--per-address", per_address, "--new-per-address", 0,
                          "--lines-per-address", 0)
    allowed = per_address or PER_ADDRESS + 5
    mine = connect_from_one_machine(server, allowed)
    for client in mine:
        assert wait_for_greeting(client)
    if per_address:
        extra = WireClient(server, host=ONE_MACHINE)
        extra.wait_closed()
        extra.wait_logged(rf"refused: {per_address} connections from this address already")
    server.wait_for_account(connected=allowed)


@pytest.mark.parametrize("stage", stages_from(2))
def test_a_waiting_player_is_not_bombarded_by_a_machine_that_connects_in_a_loop(stage, start_server):
    server = start_server(stage, "--lines-per-address", 0)  # every refusal shown
    waiting = WireClient(server)
    waiting.wait_for("waiting")
    cycles, started = 4 * NEW_PER_ADDRESS, time.monotonic()
    for _ in range(cycles):  # connect, send junk, get cut (or refused): again and again
        churner = WireClient(server, host=ONE_MACHINE, hello=False)
        send_until_closed(churner, b"\xff junk" + TERMINATOR)
        churner.wait_closed()
    most = NEW_PER_ADDRESS + 1 + int(time.monotonic() - started)  # 10 at once, then one a second
    waiting.echo()  # everything the server sent it before this has arrived
    assert waiting.count("startgame") <= most  # not one per cycle
    assert [action for action in waiting.actions() if action != "echo"][-1] == "waiting"  # back in the queue
    marker = WireClient(server)  # from another address: its line comes after every refusal's
    marker.wait_logged("joined")
    refused = server.out.text().count("refused: too many new connections from this address")
    assert refused >= cycles - most
    server.wait_for_account(connected=2, waiting=0, games=1)  # the marker and the waiting player


def try_to_join(server):
    """A new connection from ONE_MACHINE: the client once greeted, or None if refused."""
    client = WireClient(server, host=ONE_MACHINE, hello=False)
    if client.wait(lambda inbox: inbox, "a greeting, or a refusal"):
        return client
    client.close()
    return None


@pytest.mark.parametrize("stage", STAGES)
def test_a_machine_refused_for_joining_too_often_is_served_again_once_its_share_has_come_back(stage, start_server):
    server = start_server(stage, "--per-address", 0, "--lines-per-address", 0)  # only --new-per-address
    joined = []
    while (client := try_to_join(server)) is not None:  # 10 at once, then one a second: until refused
        joined.append(client)
        assert len(joined) <= 4 * NEW_PER_ADDRESS, "never refused"
    server.out.wait_for(rf"^{re.escape(ONE_MACHINE)}:\d+ refused: too many new connections from this address")
    found = []  # one a second comes back: a try every 0.2 s is served within a second or two
    wait_until(lambda: found.append(try_to_join(server)) or found[-1], "the machine to be served again",
               step=lambda: time.sleep(0.2))
    found[-1].send_message({"action": "echo", "text": "back"})
    assert found[-1].wait_for("echo")["text"] == "back"
    for client in joined + found[-1:]:
        client.close()


def send_until_closed(client, data):
    try:
        client.send_bytes(data)
    except OSError:
        pass  # the server has closed the connection: refused, or cut


@pytest.mark.parametrize("stage", STAGES)
def test_lines_about_one_busy_machine_are_counted_not_printed(stage, start_server):
    server = start_server(stage, "--new-per-address", 0)
    cycles, started = 40, time.monotonic()
    for _ in range(cycles):  # each cycle is a join and a leave, at least
        churner = WireClient(server, host=ONE_MACHINE)
        churner.echo()
        churner.close()
    most = LINES_PER_ADDRESS + 1 + int(time.monotonic() - started)  # 10 at once, then one a second
    counted = re.compile(rf"^{re.escape(ONE_MACHINE)}: \d+ more lines not shown: (.*) \(connected")
    shown = re.compile(rf"^{re.escape(ONE_MACHINE)}:\d+ joined \(")

    def joins(lines):  # shown, and counted: (shown, count lines) once they add up to every cycle's
        seen = sum(1 for line in lines if shown.search(line))
        counts = [found.group(1) for found in map(counted.search, lines) if found]
        told = seen + sum(int(n) for kinds in counts for n in re.findall(r"(\d+) joined", kinds))
        return told == cycles and (seen, len(counts))

    seen, counts = server.out.wait(joins, f"the joins shown and counted to add up to {cycles}")
    assert seen <= most and counts >= 1
    queue = {"waiting": 0, "games": 0} if stage_number(stage) >= 2 else {}
    server.wait_for_account(connected=0, **queue)  # the count carries the account too


@pytest.mark.parametrize("stage", STAGES)
def test_the_count_of_lines_not_shown_stops_once_the_machine_is_quiet(stage, start_server):
    server = start_server(stage, "--new-per-address", 0, "--lines-per-address", 2, "--message-seconds", 1)
    for _ in range(5):  # 10 lines and more about one machine: all but 2 counted
        churner = WireClient(server, host=ONE_MACHINE)
        churner.echo()
        churner.close()
    counted = rf"^{re.escape(ONE_MACHINE)}: \d+ more lines not shown: "
    server.out.wait_for(counted + r".*\(connected 0\b")  # the last churner's leave, counted: all told
    told = len(server.out.lines)
    for _ in range(2):  # two later sweeps of the server's (each cuts a silent newcomer, in turn)
        silent = WireClient(server, hello=False)
        silent.wait_closed()
        silent.wait_logged(r"sent no message in its first 1 s; closing its connection$")
    again = [line for line in server.out.lines[told:] if re.search(counted, line)]
    assert again == [], "the machine is quiet, but its count goes on"


@pytest.mark.parametrize("stage", STAGES)
def test_a_connection_that_says_nothing_is_closed_and_one_that_has_spoken_may_wait(stage, start_server):
    server = start_server(stage, "--message-seconds", 1)
    spoken = WireClient(server)  # its hello is its first message
    spoken.echo()
    silent = WireClient(server, hello=False)
    silent.wait_closed()
    silent.wait_logged(r"sent no message in its first 1 s; closing its connection$")
    spoken.echo("still here")  # it had said nothing since before the silent one came


@pytest.mark.parametrize("stage", STAGES)
def test_an_unfinished_message_may_not_sit_for_ever(stage, start_server):
    server = start_server(stage, "--message-seconds", 1)
    client = WireClient(server)
    client.echo()
    client.send_bytes(encode({"action": "echo", "text": "never finished"})[:-3])
    client.wait_closed()
    client.wait_logged(r"took over 1 s to send a whole message; closing its connection$")
    first = WireClient(server, hello=False)  # and a first message left unfinished
    first.send_bytes(encode({"action": "echo", "text": "never finished"})[:-3])
    first.wait_closed()
    first.wait_logged(r"sent part of a message, and no more, in its first 1 s; closing its connection$")


@pytest.mark.parametrize("stage", STAGES)
def test_a_message_trickled_a_byte_at_a_time_is_cut_at_its_deadline(stage, start_server):
    server = start_server(stage, "--message-seconds", 1)
    client = WireClient(server)
    client.echo()
    message, started = encode({"action": "echo", "text": "x" * 200}), time.monotonic()
    for byte in message[:-1]:  # one byte every 0.2 s, for TIMEOUT s at most: never the whole
        send_until_closed(client, bytes([byte]))
        if client.closed or time.monotonic() > started + TIMEOUT:
            break
        time.sleep(0.2)  # the trickle's pace, not a wait for anything
    assert client.closed, f"still connected after trickling for {time.monotonic() - started:.0f} s"
    client.wait_logged(r"took over 1 s to send a whole message; closing its connection$")


def test_the_default_message_deadline_is_kept_by_a_real_game(start_server, start_game):
    """game.py speaks at once, with its first echo: the default deadline never closes it."""
    server = start_server("stage3_startgame")
    game = start_game("stage3_startgame", server.port)
    game.until("state == 'waiting for an opponent' and round_trip_ms is not None")
    assert "closing its connection" not in server.out.text()


def test_the_player_limit_stays_under_the_file_limit(start_server):
    server = start_server("stage1_echo", file_limit=256)
    cap = 256 - FILE_MARGIN
    server.out.wait_for(rf"at most 256 files, so it takes at most {cap} players\.$")
    players = [WireClient(server) for _ in range(cap)]
    for player in players:
        wait_for_greeting(player)
    extra = WireClient(server)
    extra.wait_closed()
    extra.wait_logged(rf"refused: the server is full \({cap} players\)$")
    assert "Cannot take a new player" not in server.out.text()
    for player in players:
        player.close()


MEASURED_SECONDS = 2.0  # the interval over which the loop's turns are counted: not a wait


@pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="lowers a running server's file limit (Linux)")
@pytest.mark.parametrize("as_windows", [False, True], ids=["poll", "windows"])
def test_out_of_files_the_server_says_so_once_and_pauses_instead_of_spinning(as_windows, start_server):
    server = start_server("stage2_queue", turns=True)  # as on Windows too: the as_windows fixture
    player = WireClient(server)
    player.wait_for("waiting")
    soft, hard = resource.prlimit(server.proc.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(server.proc.pid, resource.RLIMIT_NOFILE, (server.open_files(), hard))
    newcomers = [WireClient(server) for _ in range(3)]  # their connections wait in the backlog
    server.out.wait_for(r"^Cannot take a new player now \(Too many open files\): trying again every 1 s")
    before = server.turns()
    time.sleep(MEASURED_SECONDS)
    turns = server.turns() - before
    assert turns <= 10 * MEASURED_SECONDS, f"{turns} turns in {MEASURED_SECONDS} s: the loop spins"
    player.echo()  # the players it has are served meanwhile
    assert server.out.text().count("Cannot take a new player") == 1
    resource.prlimit(server.proc.pid, resource.RLIMIT_NOFILE, (soft, hard))
    server.out.wait_for(r"^Taking new players again\.$")
    assert newcomers[0].wait_for("startgame")  # the first newcomer pairs with the one waiting
    for newcomer in newcomers[1:]:
        assert wait_for_greeting(newcomer)
    assert "accept" not in server.out.text()  # PodSixNet's own warning, once a turn


@pytest.mark.parametrize("stage", stages_from(4))
def test_a_flooder_is_read_no_faster_than_its_budget_and_loses_nothing(stage, start_server):
    server = start_server(stage, "--messages-per-second", 100)  # and 200 at once
    flooding = Match(server)
    watcher = flooding.players[1]
    moves, started = 600, time.monotonic()
    sender = flooding.flood(moves)
    watcher.wait_for(flooding.reply, moves)  # every one served: none dropped
    took = time.monotonic() - started
    # The budget lets 200 through at once, and what one read of 4 KiB holds past it;
    # the rest come at 100 a second. A slower machine only takes longer.
    one_read = 4096 // len(encode(flooding.round(1)))
    least = (moves - 200 - 2 * one_read) / 100
    assert took >= least, f"{moves} moves read in {took:.2f} s: faster than the budget of 100 a second"
    sender.join()
    flooding.check()


IDLE_SECONDS = 6  # how long a player idles before it floods: three times what the burst takes to refill


@pytest.mark.parametrize("stage", stages_from(4))
def test_a_flooder_who_idled_first_gets_no_more_than_its_burst_at_once(stage, start_server):
    rate = 100  # and 200 at once
    server = start_server(stage, "--messages-per-second", rate)
    flooding = Match(server)
    watcher = flooding.players[1]
    time.sleep(IDLE_SECONDS)  # the idling is the case tried, not a wait: a budget must not grow past its burst
    moves, started = 900, time.monotonic()
    sender = flooding.flood(moves)
    watcher.wait_for(flooding.reply, moves)
    heard = [at - started for message, at in zip(watcher.inbox, watcher.arrived)
             if message["action"] == flooding.reply]
    # By each moment, at most one burst, what a read of 4 KiB holds past it, and the rate since: a
    # slower machine only hears them later. An uncapped budget lets the idle 6 s through too, 600
    # more at once.
    one_read, most = 4096 // len(encode(flooding.round(1))), 2 * rate
    early = [(count, seconds) for count, seconds in enumerate(heard, 1) if count > most + 2 * one_read + rate * seconds]
    assert not early, f"move {early[0][0]} heard {early[0][1]:.2f} s into the flood: past the burst and the rate"
    sender.join()
    flooding.check()


class SlowReader(WireClient):
    """A client on slow Wi-Fi: it reads at most RATE bytes a second, into a small buffer."""
    RATE = 100_000  # 100 kB/s
    receive_buffer = 16384

    def receive(self):
        if not hasattr(self, "started"):
            self.started, self.taken = time.monotonic(), 0
        time.sleep(max(0.0, self.started + self.taken / self.RATE - time.monotonic()))  # pacing, not a wait
        data = self.sock.recv(2048)
        self.taken += len(data)
        return data


class Flooder(WireClient):
    """A client that sends moves as fast as its socket takes them, and once the flood has
    begun reads all it is sent without decoding it: a flood at full speed."""
    flooding = False

    def receive(self):
        if not self.flooding:
            return WireClient.receive(self)
        while self.sock.recv(1 << 16):
            pass  # read, and thrown away, until the server hangs up
        return b""

    def close(self, reset=True):
        """Hang up with a reset, which throws away what the server has not read yet; first
        shut the sending side, which wakes the flood's thread if it waits for room."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        WireClient.close(self, reset=True)

    def flood(self, moves):
        """Start sending `moves` moves back and forth, from a thread; stops when the server hangs up."""
        start = self.wait_for("startgame")
        there, back = ({"action": "move", "gameID": start["gameID"], "player": start["player"], "dx": dx, "dy": 0}
                       for dx in (4, -4))
        self.flooding = True
        threading.Thread(target=send_until_closed, daemon=True,
                         args=(self, (encode(there) + encode(back)) * (moves // 2))).start()


def flood_a_slow_reader(server, moves=150_000):
    """A flooder and its opponent, who reads at 100 kB/s; the flood under way."""
    flooder = Flooder(server)
    flooder.wait_for("waiting")
    victim = SlowReader(server)
    victim.wait_for("startgame")
    flooder.flood(moves)  # far more than the kernel's buffers hold
    return flooder, victim


@pytest.mark.parametrize("stage", stages_from(4))
def test_a_flooders_opponent_who_reads_slowly_is_not_cut(stage, start_server):
    server = start_server(stage)
    flooder, victim = flood_a_slow_reader(server)
    heard = 10000
    assert victim.wait_for(MOVE_REPLY[stage_number(stage)], heard), victim.closed_early("the moves")
    assert not victim.logged("left 65536 bytes unread")
    flooder.close()  # and what it has not sent goes with it
    victim.wait_for("opponentleft")
    victim.echo()  # still connected, back in the queue


@pytest.mark.parametrize("stage", STAGES)
def test_a_console_that_cannot_show_a_character_shows_an_escape_not_a_traceback(stage, start_server):
    # Windows' console, or its output sent to a file, often speaks cp1252, which has no 日本.
    server = start_server(stage, env={"PYTHONIOENCODING": "cp1252"})
    client = WireClient(server)
    client.send_message({"action": "\u65e5\u672c"})  # an action no stage has: dropped, and its line printed
    client.wait_logged(r"sent \{'action': '\\u65e5\\u672c'\}: no such action; dropped$")
    client.echo("\u00e9l\u00e8ve \u65e5\u672c")  # still served, and its echo intact
    assert "Traceback" not in server.err.text()

"""See the network: tools/lagproxy.py --wire shows every message as it crosses.

Real server, real games (headless) or wire-level clients, through the real
proxy. The view is checked against what the games themselves counted at
PodSixNet's layer, and it must never change or break a connection it watches.
"""
import re

from harness import TERMINATOR, WireClient, encode, wait_until


def wire_lines(proxy, who, arrow):
    return [line for line in proxy.out.lines[:] if re.match(rf"\s*[\d.]+\s+{who} {arrow} server  ", line)]


def size_of(line):
    return int(re.search(r"  (\d+) B", line).group(1))


def test_both_players_startgame_and_every_move_are_shown_with_their_real_size(start_server, start_proxy,
                                                                                start_two_games):
    server = start_server("stage4_relay")
    proxy = start_proxy(server, 0, wire=True)
    first, second = start_two_games("stage4_relay", proxy.port)
    first.frames(3, keydown=["right"])
    first.frames(1, keyup=["right"])
    mover = first.echo()  # its moves have all been handled, and their replies are in
    watcher = second.until("wire['actions'].count('positions') == 3 and round_trip_ms is not None")
    for number in (1, 2):
        player = number - 1
        proxy.out.wait_for(rf"#{number} <- server  startgame gameID=0 player={player} positions=")
    moves = [line for line in wire_lines(proxy, "#1", "->") if " move " in line]
    assert len(moves) == 3 and all("move gameID=0 player=0 dx=4 dy=0  42 B" in line for line in moves)
    proxy.out.wait(lambda lines: len(wire_lines(proxy, "#2", "<-")) == watcher["wire"]["received"],
                   "every message the watcher received, in the view")
    # what the view says crossed is what the game counted, message by message and byte by byte
    sent = wire_lines(proxy, "#1", "->")
    assert len(sent) == mover["wire"]["sent"]
    assert sum(map(size_of, sent)) == mover["wire"]["sent_bytes"]


def test_bytes_that_do_not_decode_are_shown_and_nothing_is_changed(start_server, start_proxy):
    server = start_server("stage1_echo")
    proxy = start_proxy(server, 0, wire=True)
    bad, good = WireClient(proxy), WireClient(proxy)
    for client in (bad, good):
        client.wait_for("connected")
    halves = encode({"action": "echo", "text": "in two halves"})
    good.send_bytes(halves[:9])  # a message that crosses in two pieces is shown once, whole
    wait_until(good.all_read, "the proxy to read the first piece by itself")
    good.send_bytes(halves[9:])
    good.wait_for("echo")
    bad.send_bytes(encode(["no", "action"]))
    bad.send_bytes(b"\xff junk" + TERMINATOR)
    proxy.out.wait_for(r"#1 -> server  not a message \(no action\): \['no', 'action'\]  \d+ B")
    proxy.out.wait_for(r"#1 -> server  does not decode: b'\\xff junk'  11 B")
    bad.wait_closed()  # the server cut it, as it cuts junk without the proxy
    good.echo("still served")  # the view broke nothing for anyone
    echoes = [line for line in wire_lines(proxy, "#2", "->") if "in two halves" in line]
    assert echoes == [echoes[0]] and size_of(echoes[0]) == len(halves)

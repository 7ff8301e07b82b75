"""Feel the lag: tools/lagproxy.py, and what it shows about stages 4 and 5.

Through the proxy every byte arrives DELAY ms late each way. An echo's round
trip then takes twice the delay. In stage 4 a player's own character moves
only when the server's "positions" comes back, a round trip after the key;
in stage 5 it moves in the frame of the key press. In both, the opponent
sees the move one trip through the server later: game to server, server to
the other game, two delays.

The bounds below are physics: no byte can beat the proxy's delay, and stage
5's own move is checked in frames, not milliseconds. How long past the delay
things took depends on the machine, so it is reported, never checked. Every
test runs with the server and the proxy as on Windows too, stopped by Ctrl+C.
"""
import socket
import statistics
import time

import pytest

from harness import POSIX_AND_WINDOWS, REPORT, WireClient, command, encode, finish, launch, stages_from

pytestmark = POSIX_AND_WINDOWS

DELAY, JITTER = 100, 20  # milliseconds each way


def milliseconds_since(start):
    return (time.monotonic() - start) * 1000


@pytest.mark.parametrize("jitter", [0, JITTER])
def test_an_echo_takes_twice_the_delay(jitter, as_windows, start_server, start_proxy):
    server = start_server("stage1_echo")
    proxy = start_proxy(server, DELAY, jitter)
    client = WireClient(proxy)
    client.wait_for("connected")
    round_trips = []
    for number in range(10):
        started = time.monotonic()
        client.echo(f"ping {number}")
        round_trips.append(milliseconds_since(started))
    REPORT.setdefault("lag", {})[f"echo, {DELAY} ms each way, jitter {jitter}" + " (as Windows)" * as_windows] = (
        statistics.median(round_trips), min(round_trips), max(round_trips))
    assert min(round_trips) >= 2 * (DELAY - jitter)
    client.close()


@pytest.mark.parametrize("loss", [0, 10])
def test_bytes_keep_their_order_and_many_connections_are_served(loss, start_server, start_proxy):
    server = start_server("stage1_echo")
    proxy = start_proxy(server, 30, jitter=30, loss=loss)  # jitter as large as the delay: the worst case
    clients = [WireClient(proxy) for _ in range(20)]
    for client in clients:
        client.send_bytes(b"".join(encode({"action": "echo", "text": f"{n}"}) for n in range(50)))
    for client in clients:
        client.wait_for("echo", 50)
        assert [m["text"] for m in client.inbox if m["action"] == "echo"] == [f"{n}" for n in range(50)]
    server.wait_for_account(connected=20)
    for client in clients:
        client.close()
    server.wait_for_account(connected=0)  # the proxy closed the server's side of each


def test_the_proxy_closes_the_game_side_when_the_server_goes(start_server, start_proxy):
    server = start_server("stage1_echo")
    proxy = start_proxy(server, 10)
    client = WireClient(proxy)
    client.wait_for("connected")
    assert server.stop() == 0
    client.wait_closed()
    late = WireClient(proxy)  # no server now: the proxy says so and hangs up
    late.wait_closed()
    proxy.out.wait_for("no server at")


def test_a_port_in_use_gets_one_line(as_windows):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = finish(launch(*command("tools/lagproxy.py", as_windows=as_windows), "--listen", port))
    assert code == 1
    assert err.strip() == f"Port {port} is already in use: is another proxy still running?"


def moved(snapshot, player, start):
    return snapshot["positions"][player] != start


@pytest.mark.parametrize("stage", stages_from(4))
def test_own_move_waits_a_round_trip_in_stage4_but_not_in_stage5(stage, as_windows, start_server, start_proxy,
                                                                   start_two_games):
    server = start_server(stage)
    proxy = start_proxy(server, DELAY)
    mover, watcher = start_two_games(stage, proxy.port)
    me = mover.snapshot()["number"]
    start = mover.snapshot()["positions"][me]
    pressed = mover.frames(1, keydown=["right"])  # one frame with the key held: one move
    mover.frames(1, keyup=["right"])
    sent_at = pressed["clock"]["frame_started"]  # the move left during this frame
    if stage == "stage5_optimized":
        assert moved(pressed, me, start), "stage 5 moves the player in the frame of the key press"
        own = 0.0
    else:
        assert not moved(pressed, me, start), "stage 4 waits for the server"
        shown = mover.until(f"positions[{me}] != {start}")
        own = (shown["clock"]["now"] - sent_at) * 1000
        assert own >= 2 * DELAY
    seen = watcher.until(f"positions[{me}] != {start}")
    opponent = (seen["clock"]["now"] - sent_at) * 1000
    assert opponent >= 2 * DELAY  # game -> server -> other game
    assert seen["positions"][me] == [start[0] + 4, start[1]]
    REPORT.setdefault("lag", {})[f"{stage}, {DELAY} ms each way" + " (as Windows)" * as_windows] = (own, opponent)

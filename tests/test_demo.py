"""`make demo`: tools/demo.py starts a stage's server and two games, and tidies up after them."""
import signal
import socket

import pytest

from harness import TIMEOUT, Reader, finish, free_port_and_the_next, launch


def refused(port):
    """Nobody listens on this loopback port."""
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()


@pytest.mark.parametrize("lag, jitter, wire", [(0, 0, False), (50, 0, False), (50, 20, False), (0, 0, True)],
                         ids=["direct", "lag", "lag-jitter", "wire-loss"])
def test_demo_starts_a_server_and_two_games_then_stops_them_all(lag, jitter, wire):
    port = free_port_and_the_next()
    options = ["--lag", lag] * bool(lag) + ["--jitter", jitter] * bool(jitter) + ["--wire", "--loss", 2] * wire
    demo = launch("tools/demo.py", "--stage", 4, "--port", port, *options)
    out, err = Reader(demo.stdout), Reader(demo.stderr)
    proxy = bool(lag or wire)
    try:
        out.wait_for(f"listening on 127.0.0.1:{port}")
        if proxy:  # the proxy took the options, and both games connected through it
            out.wait_for(f"lag proxy on 127.0.0.1:{port + 1} -> 127.0.0.1:{port}, "
                         fr"{lag} ms each way \(jitter {jitter} ms\)" + ", 2% of chunks lost and resent" * wire)
            out.wait(lambda lines: sum("connected through the proxy" in line for line in lines) == 2,
                     "both games to connect through the proxy")
        # Both games found the server and were paired, the left window first: it is player 0,
        # for the right window is started only once the left one waits.
        out.wait_for(r"game 0 started: left window \(127\.0\.0\.1:\d+\) vs right window \(127\.0\.0\.1:\d+\)$")
        assert out.text().index("left window (") < out.text().index(" waiting 1, ") < out.text().index("right window (")
        if wire:  # and the terminal showed each game being told its player number
            for number in (0, 1):
                out.wait_for(fr"#{number + 1} <- server  startgame gameID=0 player={number} ")
        demo.send_signal(signal.SIGTERM)   # as Ctrl+C in its terminal
        assert demo.wait(TIMEOUT) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
    assert "Traceback" not in err.text(), err.text()
    for used in [port] + ([port + 1] if proxy else []):  # the server and the proxy are gone too
        refused(used)


@pytest.mark.parametrize("lag", [0, 10])
def test_jitter_larger_than_the_lag_is_refused_in_one_line_before_anything_starts(lag):
    port = free_port_and_the_next()
    code, out, err = finish(launch("tools/demo.py", "--port", port, "--lag", lag, "--jitter", 20))
    assert code == 2 and out == ""
    assert err == ("--jitter 20 needs a --lag of at least 20 ms (--lag 20 --jitter 20): "
                   "a byte cannot arrive before it is sent.\n")
    for used in (port, port + 1):  # neither the server nor the proxy started
        refused(used)

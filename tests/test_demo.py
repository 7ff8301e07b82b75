"""`make demo`: tools/demo.py starts a stage's server and two games, and tidies up after them."""
import signal
import socket

import pytest

from harness import TIMEOUT, Reader, free_port_and_the_next, launch


@pytest.mark.parametrize("lag", [0, 50])
def test_demo_starts_a_server_and_two_games_then_stops_them_all(lag):
    port = free_port_and_the_next()
    demo = launch("tools/demo.py", "--stage", 5, "--port", port, *(["--lag", lag] if lag else []))
    out, err = Reader(demo.stdout), Reader(demo.stderr)
    try:
        out.wait_for(f"listening on 127.0.0.1:{port}")
        if lag:
            out.wait_for(f"lag proxy on 127.0.0.1:{port + 1} -> 127.0.0.1:{port}, {lag} ms each way")
        out.wait_for(r"game 0 started: ")  # both games found the server and were paired
        demo.send_signal(signal.SIGTERM)   # as Ctrl+C in its terminal
        assert demo.wait(TIMEOUT) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
    assert "Traceback" not in err.text(), err.text()
    for used in [port] + ([port + 1] if lag else []):  # the server and the proxy are gone too
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", used), timeout=TIMEOUT).close()

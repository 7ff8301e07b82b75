"""The armour's loop keeps what it waits for on each socket from turn to turn
(ArmouredServer.watch()), and changes it only when that changes. So each change
must happen, or a socket is forgotten:
  * a reply the client's socket could not take at once waits in the server, and
    goes out when the client reads again: the loop waits to write it;
  * a client that leaves is no longer watched: the loop does not spin on its
    closed socket, and sleeps again.
Each runs as a server on Windows runs it too (select()).
"""
import os
import time

import pytest

from harness import POSIX_AND_WINDOWS, TERMINATOR, WireClient, wait_until
from test_limits import SMALL_ECHO, echo_of_size

pytestmark = POSIX_AND_WINDOWS
MEASURED_SECONDS = 2.0  # the interval over which the loop's turns are counted: not a wait
MOST_ECHOES = 200       # a client's buffers take fewer than this many small echoes


class SmallBuffers(WireClient):
    receive_buffer = 4096  # so that a few echoes fill what TCP holds for it


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="watches the server's socket through /proc")
@pytest.mark.parametrize("stage", ["stage1_echo", "stage5_optimized"])
def test_a_reply_the_socket_could_not_take_goes_out_once_the_client_reads(stage, start_server):
    # The client stops reading and asks for echoes, one at a time, until the
    # server's socket takes less of a reply than it was given: the rest waits
    # in the server (under 64 KiB, so it is not cut). Then the client reads
    # again and says nothing more: only the loop's wait to write sends the rest.
    server = start_server(stage)
    stalled, other = SmallBuffers(server), WireClient(server)
    stalled.wait_for("connected")
    stalled.stall()
    echo, asked = echo_of_size(SMALL_ECHO) + TERMINATOR, 0
    while True:
        assert asked < MOST_ECHOES, "the server's socket took every echo"
        stalled.send_bytes(echo)
        asked += 1
        wait_until(stalled.all_read, "the server to read the echo")
        other.echo(f"after echo {asked}")  # the server has handed the echo's reply to the socket since
        in_the_system = stalled.tcp_end()["queued"] + stalled.tcp_end("client")["unread"]
        if asked * len(echo) - in_the_system > len(echo) // 2:
            break  # the sockets did not take all the replies: the server holds the rest
    stalled.resume()
    assert stalled.wait_for("echo", asked)  # every reply, the held part too
    assert not stalled.logged("closing its connection")


@pytest.mark.parametrize("stage", ["stage2_queue", "stage5_optimized"])
def test_a_client_that_left_is_no_longer_watched(stage, start_server):
    server = start_server(stage, turns=True)
    leaving, staying = WireClient(server), WireClient(server)
    leaving.wait_for("connected")
    staying.echo()
    leaving.close()
    leaving.wait_logged(r"left \(")
    staying.echo()  # a turn after it left
    before = server.turns()
    time.sleep(MEASURED_SECONDS)
    turns = server.turns() - before
    assert turns <= 10 * MEASURED_SECONDS, f"{turns} turns in {MEASURED_SECONDS} s: the loop spins"
    staying.echo()  # and serves the one who stayed
    assert not staying.closed
    newcomer = WireClient(server)  # on the number the one who left had, as likely as not
    newcomer.echo()

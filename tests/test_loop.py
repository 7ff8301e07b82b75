"""The armour's loop keeps what it waits for on each socket from turn to turn
(ArmouredServer.watch()), and changes it only when that changes. So each change
must happen, or a socket is forgotten:
  * a reply the client's socket could not take at once waits in the server, and
    goes out when the client reads again: the loop waits to write it;
  * a client that leaves is no longer watched: the loop does not spin on its
    closed socket, and sleeps again;
  * an address over its budget is read on none of its connections, not even
    one that was quiet while the others spent it, until the budget is back.
And a busy server naps (ArmouredServer.wait()): waking costs more than a move,
so while messages come more often than one a millisecond, it is woken at most
once a millisecond, and reads all that came meanwhile; messages that come
further apart wake it once each, and are never kept waiting.
Each runs as a server on Windows runs it too (select()), which does not nap.
"""
import os
import re
import shutil
import subprocess
import time

import pytest

from harness import LOOPBACK, POSIX_AND_WINDOWS, TERMINATOR, WireClient, encode, wait_until
from test_limits import SMALL_ECHO, echo_of_size

pytestmark = POSIX_AND_WINDOWS
MEASURED_SECONDS = 2.0  # the interval over which the loop's turns are counted: not a wait
MOST_ECHOES = 200       # a client's buffers take fewer than this many small echoes
NAP_SECONDS = 0.001     # the armour's: a busy server's shortest turn
BUSY_MACHINES, BUSY_RATE = 8, 4000  # messages a second, one at a time, from 8 machines (each under its budget)
QUIET_ECHOES, QUIET_PAUSE = 40, 0.005  # echoes one after another, each this long after the last reply


class SmallBuffers(WireClient):
    receive_buffer = 4096  # so that a few echoes fill what TCP holds for it

    def handed(self):
        """Bytes the server has handed to its socket for this client so far: acknowledged, or
        still queued there. One socket's own count, from ss (iproute2), so none is counted twice."""
        shown = subprocess.run(["ss", "-tinH", "state", "established", "dst", self.name],
                               capture_output=True, text=True, check=True).stdout
        acked = re.search(r"\bbytes_acked:(\d+)", shown)
        return int(shown.split()[1]) + (int(acked.group(1)) if acked else 0)  # Send-Q, and bytes_acked


@pytest.mark.skipif(not (os.path.exists("/proc/net/tcp") and shutil.which("ss")),
                    reason="watches the server's socket through /proc and ss (Linux)")
@pytest.mark.parametrize("stage", ["stage1_echo", "stage5_optimized"])
def test_a_reply_the_socket_could_not_take_goes_out_once_the_client_reads(stage, start_server):
    # The client stops reading and asks for echoes, one at a time, each only once
    # the server holds nothing for it, until the server's socket takes less of a
    # reply than it was given: the rest waits in the server (under 64 KiB, so it
    # is not cut), and nothing was waiting before, so only the turn that handed
    # the reply to the socket can have told the loop to wait to write the rest.
    # Then the client reads again and says nothing more: only that wait sends it.
    server = start_server(stage)
    stalled, other = SmallBuffers(server), WireClient(server)
    stalled.wait_for("connected")
    stalled.stall()
    other.echo("after the stall")  # the server has handed the stalled client all it had for it
    handed, echo, asked = stalled.handed(), echo_of_size(SMALL_ECHO) + TERMINATOR, 0
    holds = 0
    while not holds:
        assert asked < MOST_ECHOES, "the server's socket took every echo"
        stalled.send_bytes(echo)
        asked += 1
        wait_until(stalled.all_read, "the server to read the echo")
        other.echo(f"after echo {asked}")  # the server has handed the echo's reply to the socket since
        holds = handed + asked * len(echo) - stalled.handed()  # what the server itself holds
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


@pytest.mark.parametrize("stage", ["stage1_echo", "stage5_optimized"])
def test_an_address_over_its_budget_is_read_on_none_of_its_connections(stage, start_server):
    # Two connections from one address: one spends the budget, the other has
    # been quiet. Once the budget is gone, the quiet one's echo must wait in
    # its socket, unread, while the server serves another address, until the
    # budget has come back; and then it is answered.
    rate, spent = 10, 60  # a burst of 20; 60 at once leave it 40 short, about 4 s of the rate
    server = start_server(stage, "--messages-per-second", rate)
    machine = next(LOOPBACK)
    spender, quiet, other = WireClient(server, host=machine), WireClient(server, host=machine), WireClient(server)
    for client in (spender, quiet, other):
        client.wait_for("connected")
    quiet.echo("before")  # its socket is watched, and read
    spender.send_bytes(encode({"action": "echo", "text": "spend"}) * spent)
    spender.wait_for("echo", spent)  # one read of 4 KiB holds them all: the budget is gone after it
    waiting = encode({"action": "echo", "text": "after"})
    quiet.send_bytes(waiting)
    wait_until(lambda: quiet.tcp_end("client")["queued"] == 0, "the server's socket to take the echo")
    other.echo()  # a turn of the loop that saw the quiet one's socket ready, if it watched it
    assert quiet.tcp_end()["unread"] == len(waiting), "an address over its budget was read"
    assert quiet.count("echo") == 1
    assert quiet.wait_for("echo", 2) == {"action": "echo", "text": "after"}  # once the budget is back


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="counts the server's wakes in /proc (Linux)")
@pytest.mark.parametrize("stage", ["stage1_echo", "stage5_optimized"])
def test_a_busy_server_is_woken_at_most_once_a_millisecond(stage, start_server, as_windows):
    # Messages arrive one at a time, BUSY_RATE a second: a server woken for each
    # (it sleeps until a socket is ready, and each is ready on its own) would be
    # woken about that often. This one naps once it has done all there was, so
    # the system wakes it at most once a millisecond however fast they come (and
    # however slow the machine), and it answers every message all the same.
    if as_windows:
        pytest.skip("the select() path does not nap: Windows' sleep() counts in 15.6 ms steps before Python 3.11")
    server = start_server(stage)
    clients = [WireClient(server) for _ in range(BUSY_MACHINES)]
    for client in clients:
        client.wait_for("connected")
    message = encode({"action": "echo", "text": "busy"})
    before, began, sent = server.wakes(), time.monotonic(), 0
    while time.monotonic() < began + MEASURED_SECONDS:
        if time.monotonic() >= began + sent / BUSY_RATE:  # the next one is due
            clients[sent % BUSY_MACHINES].send_bytes(message)
            sent += 1
    wakes, seconds = server.wakes() - before, time.monotonic() - began
    for index, client in enumerate(clients):
        client.wait_for("echo", len(range(index, sent, BUSY_MACHINES)))  # every one answered
    most = 1.1 * seconds / NAP_SECONDS + 10
    assert wakes <= most, f"woken {wakes} times for {sent} messages in {seconds:.1f} s: for each, as good as"


@pytest.mark.parametrize("stage", ["stage1_echo", "stage5_optimized"])
def test_messages_far_apart_wake_the_server_once_each(stage, start_server):
    # An echo, its reply, a pause longer than a nap, the next: each wakes the
    # server once, and it answers in the turn after (which sends what the turn
    # before queued). A server that napped after each would turn twice for each,
    # and keep a message that came during the nap waiting.
    server = start_server(stage, turns=True)
    client = WireClient(server)
    client.wait_for("connected")
    before = server.turns()
    for number in range(QUIET_ECHOES):
        client.echo(f"quiet {number}")
        time.sleep(QUIET_PAUSE)  # the pace of the messages, not a wait for something
    turns = server.turns() - before
    assert turns <= QUIET_ECHOES + 5, f"{turns} turns for {QUIET_ECHOES} echoes far apart: it napped after each"

"""Nothing one sender does stalls the class: the work a message costs the server is bounded and paid
by its sender's machine, and TCP's urgent byte cannot make the loop spin. Every server.py's armour:
  * a message of more than 256 values (MAX_VALUES: a game's have under 32) is
    refused as it decodes, dropped with the usual line, and its sender kept;
    one long string is one value, so a 64 KiB echo is still served;
  * an address's connections share one budget (--messages-per-second), and a
    message costs it 1, and 1 more for each 32 values and each 4 KiB: ten
    connections buy no more of the server than one, and a message that is
    slow to decode costs what it takes;
  * a client that sends an urgent (out-of-band) byte is cut with one line,
    on the poll path and as on Windows (select).
Each runs as a server on Windows runs it too.
"""
import socket
import threading
import time

import pytest

from harness import POSIX_AND_WINDOWS, STAGES, WireClient, encode
from test_fair_share import ONE_MACHINE

pytestmark = POSIX_AND_WINDOWS
MAX_VALUES = 256  # in every server.py
ECHO_VALUES = 7   # {"action": "echo", "text": ..., "pad": [...]}: the dict, three keys and three values


def padded_echo(text, pad, each=""):
    """An echo that also carries a list of `pad` strings: ECHO_VALUES + pad values."""
    return {"action": "echo", "text": text, "pad": [each] * pad}


@pytest.mark.parametrize("stage", [STAGES[0], STAGES[-1]])
def test_a_message_of_too_many_values_is_dropped_and_its_sender_kept(stage, start_server):
    server = start_server(stage)
    sender = WireClient(server)
    sender.send_message(padded_echo("one too many", MAX_VALUES - ECHO_VALUES + 1))
    sender.wait_logged(rf"sent .*: more than {MAX_VALUES} values; dropped$")
    sender.send_message(padded_echo("a decode bomb", 65000))  # 64 KiB: a tenth of a second to decode whole
    sender.echo("at the limit")
    sender.send_message(padded_echo("just fits", MAX_VALUES - ECHO_VALUES))
    sender.wait_for("echo", 2)
    assert [m["text"] for m in sender.inbox if m["action"] == "echo"] == ["at the limit", "just fits"]
    sender.send_message({"action": "echo", "text": "x" * 65000})  # one long string is one value
    assert sender.wait_for("echo", 3)["text"] == "x" * 65000
    assert not sender.closed


def test_an_addresss_connections_share_one_budget_charged_by_work(start_server):
    rate = 80  # and 160 at once
    server = start_server(STAGES[0], "--messages-per-second", rate)
    each, pad, word = 10, 240, "x" * 15  # 247 values in under 4 KiB: each echo costs 1 + 247 // 32 = 8
    senders = [WireClient(server, host=ONE_MACHINE) for _ in range(5)]
    for sender in senders:
        sender.wait_for("connected")
    started = time.monotonic()
    threads = [threading.Thread(target=sender.send_bytes, args=(b"".join(
        encode(padded_echo(f"{n}", pad, word)) for n in range(each)),)) for sender in senders]
    for thread in threads:
        thread.start()
    for sender in senders:
        sender.wait_for("echo", each)  # every one served: the budget loses nothing
    took = time.monotonic() - started
    cost = 5 * each * (1 + (ECHO_VALUES + pad) // 32)
    # 160 at once, then 80 a second, less what one read of 4 KiB a connection holds past the budget.
    # With a budget for each connection, or a cost of 1 a message, all would be served at once.
    one_read = 4096 // len(encode(padded_echo("11", pad, word)))
    least = (cost - 2 * rate - 5 * max(1, one_read) * 8) / rate
    assert took >= least, f"served in {took:.2f} s: faster than one budget of {rate} a second for the address"
    for thread in threads:
        thread.join()


@pytest.mark.parametrize("stage", [STAGES[0], STAGES[-1]])
def test_an_urgent_byte_cuts_its_sender_with_one_line_and_the_class_plays_on(stage, start_server):
    server = start_server(stage)
    honest, sender = WireClient(server), WireClient(server)
    sender.echo()
    sender.sock.send(b"!", socket.MSG_OOB)
    sender.wait_closed()
    sender.wait_logged(r"sent an urgent \(out-of-band\) byte, which no game sends; closing its connection$")
    honest.echo("still served")  # and with the connection gone, nothing is pending: the loop sleeps again


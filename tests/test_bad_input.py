"""Bad input, every stage: whatever one client sends, the server keeps serving everyone else.

A message that decodes but is wrong is dropped with one log line, and its
sender stays connected. Bytes that do not decode close the sender's
connection; its opponent is told, and the queue stays clean.
"""
import pytest

from harness import STAGES, stage_number, stages_from

TERMINATOR = b"\0---\0"  # PodSixNet's end-of-message marker

WRONG_MESSAGES = {
    "a number": 42,
    "a string": "echo",
    "a list": ["echo", "hi"],
    "None": None,
    "a dict without action": {"text": "hi"},
    "an unknown action": {"action": "teleport"},
    "a number as action": {"action": 7},
    "None as action": {"action": None},
    "a list as action": {"action": ["echo"]},
    "echo without text": {"action": "echo"},
    "echo with a number": {"action": "echo", "text": 5},
    "echo with None": {"action": "echo", "text": None},
    "echo with a list": {"action": "echo", "text": ["hi"]},
    "echo with a huge int": {"action": "echo", "text": 2 ** 200},
    "a server's message": {"action": "startgame", "gameID": 0, "player": 0},
}

UNDECODABLE = {
    "junk bytes": b"\xff\xfe not rencode",
    "an empty message": b"",
    "a message with junk after it": b"g\x81a\x01x",
}


def start_playing(server, connect):
    """Two players in a started game (from stage 2 on; in stage 1, two clients)."""
    players = connect(server.port), connect(server.port)
    if stage_number(server.stage) >= 2:
        for player in players:
            player.wait_for("startgame")
    return players


@pytest.mark.parametrize("case", WRONG_MESSAGES)
@pytest.mark.parametrize("stage", STAGES)
def test_a_wrong_message_is_dropped_and_its_sender_kept(stage, case, start_server, connect):
    server = start_server(stage)
    players = start_playing(server, connect)
    sender = connect(server.port)
    sender.send_now(WRONG_MESSAGES[case])
    server.out.wait_for(r"; dropped$")
    sender.echo()  # still connected, still served
    for player in players:
        player.echo()
    if stage_number(stage) >= 2:  # and still in the queue: the next newcomer pairs with it
        connect(server.port).wait_for("startgame")
        sender.wait_for("startgame")
        server.wait_for_account(connected=4, waiting=0, games=2)


@pytest.mark.parametrize("case", UNDECODABLE)
@pytest.mark.parametrize("stage", STAGES)
def test_undecodable_bytes_close_only_their_sender(stage, case, start_server, connect):
    server = start_server(stage)
    players = start_playing(server, connect)
    sender = connect(server.port)
    sender.push(UNDECODABLE[case] + TERMINATOR)
    sender.wait_closed()
    server.out.wait_for("do not decode")
    for player in players:
        player.echo()
    if stage_number(stage) >= 2:  # the sender left the queue: a newcomer waits
        server.wait_for_account(connected=2, waiting=0, games=1)
        connect(server.port).wait_for("waiting")


@pytest.mark.parametrize("stage", stages_from(2))
def test_a_player_cut_off_for_junk_is_reported_to_its_opponent(stage, start_server, connect):
    server = start_server(stage)
    sender, opponent = start_playing(server, connect)
    sender.push(b"\xff junk" + TERMINATOR)
    opponent.wait_for("opponentleft")
    opponent.wait_for("waiting")
    server.wait_for_account(connected=1, waiting=1, games=0)

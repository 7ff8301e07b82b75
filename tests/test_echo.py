"""Echo, from stage 1 on: the server sends each "echo" back to its sender, and only to it."""
import pytest

from answers import changed_copy
from harness import stages_from


@pytest.mark.parametrize("stage", stages_from(1))
def test_echo_returns_to_the_sender_only(stage, start_server, connect):
    server = start_server(stage)
    alice, bob = connect(server.port), connect(server.port)
    alice.echo("from alice")
    bob.echo("from bob")  # a round trip: anything sent to bob before it is in by now
    assert [m["text"] for m in bob.inbox if m["action"] == "echo"] == ["from bob"]


@pytest.mark.parametrize("stage", stages_from(1))
def test_game_shows_round_trip_and_true_counters(stage, start_server, start_game):
    server = start_server(stage)
    game = start_game(stage, server.port)
    shown = game.until("round_trip_ms is not None")  # the game echoes once on connect
    assert shown["state"] != "connecting" and shown["wire"]["actions"].count("echo") == 1
    game.frames(1, keydown=["space"])
    shown = game.until("wire['actions'].count('echo') == 2")
    assert shown["round_trip_ms"] > 0
    # The counters the class reads on screen are what really crossed the wire.
    assert shown["sent"] == shown["wire"]["sent"] == 2
    assert shown["received"] == shown["wire"]["received"]


@pytest.mark.parametrize("stage", stages_from(1))
def test_a_message_with_no_handler_is_reported_once(stage, tmp_path, start_server, start_game):
    typo = changed_copy(stage, tmp_path, "    def Network_echo(self, message):\n        sent_at",
                        "    def Network_ecko(self, message):\n        sent_at")  # in game.py
    server = start_server(stage)
    game = start_game(str(typo), server.port)
    for echoes in (1, 2, 3):  # the one sent on connecting, then two presses of space
        game.until(f"wire['actions'].count('echo') == {echoes}")
        game.frames(1, keydown=["space"], keyup=["space"])
    assert game.err.lines == ["game.py has no Network_echo, so it ignores {'action': 'echo', 'text': 'echo 1'}"]

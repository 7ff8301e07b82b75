"""The net graph in every game window (G): what it counts is what crossed the wire.

Real servers and real games, headless. The checks are on counts, never on
how fast anything went: a busy machine makes the rates smaller, not wrong.
"""
import sys

import pytest

from harness import ROOT, STAGES, stages_from

sys.path.insert(0, str(ROOT / "tools"))
from stagegame import load_stage_game  # noqa: E402 (the stage's game.py, headless, as the bot loads it)

ALL_ANSWERED = "wire['actions'].count('echo') == wire['sent_actions'].count('echo')"


def toggle(game):
    """Press G and run a frame; the graph's figures then."""
    return game.frames(1, keydown=["g"], keyup=["g"])["graph"]


@pytest.mark.parametrize("stage", STAGES)
def test_g_shows_the_graph_which_starts_hidden_and_sends_only_while_shown(stage, start_server, start_game):
    server = start_server(stage)
    game = start_game(stage, server.port)
    shown = game.until("round_trip_ms is not None")
    assert not shown["graph"]["shown"]
    assert game.frames(60)["sent"] == shown["sent"]  # hidden: the game sends nothing by itself
    assert toggle(game)["shown"]
    pinged = game.until("len(graph['round_trips']) >= 3")  # its echoes keep the round trip fresh
    assert pinged["sent"] > shown["sent"] and all(ms > 0 for ms in pinged["graph"]["round_trips"])
    assert not toggle(game)["shown"]


def test_its_bytes_are_what_the_socket_really_wrote_and_the_server_sent(start_server, start_two_games):
    server = start_server("stage4_relay", counted=True)
    mover, _ = start_two_games("stage4_relay", server.port)
    toggle(mover)
    mover.frames(20, keydown=["right"])
    mover.frames(1, keyup=["right"])
    toggle(mover)
    shown = mover.until(ALL_ANSWERED)  # everything the server sent it has arrived
    sent_to_it = server.sent_counts()["bytes"][shown["wire"]["address"]]
    assert shown["graph"]["bytes_out"] == shown["wire"]["sent_bytes"]
    assert shown["graph"]["bytes_in"] == sum(sent_to_it.values())


@pytest.mark.parametrize("stage", stages_from(4))
def test_the_movers_incoming_line_climbs_in_stage4_and_stays_flat_in_stage5(stage, start_server,
                                                                           start_two_games):
    server = start_server(stage)
    mover, _ = start_two_games(stage, server.port)
    before = mover.until(ALL_ANSWERED)
    toggle(mover)
    mover.frames(60, keydown=["right"])  # a second of holding the key, the graph showing
    mover.frames(1, keyup=["right"])
    toggle(mover)
    after = mover.until(ALL_ANSWERED)
    out = after["graph"]["messages_out"] - before["graph"]["messages_out"]
    heard = after["graph"]["messages_in"] - before["graph"]["messages_in"]
    moves = after["wire"]["sent_actions"].count("move") - before["wire"]["sent_actions"].count("move")
    echoes = out - moves  # the graph's own, one each half second it showed
    assert moves == 60 and echoes >= 1
    if stage == "stage4_relay":
        assert heard == out  # every move comes back as "positions", every echo as an echo
    else:
        assert heard == echoes  # only the echoes come back: the line stays flat


def test_its_round_trip_is_the_lessons_own_echo_timed_as_a_spaces_is(start_server, start_game):
    # Graph or not, a round trip reads the network's own (the reply was in before the
    # frame that sent the echo read) or about a frame (the next frame read it): one
    # figure, one way of timing it, so the two can differ only by that race.
    server = start_server("stage1_echo")
    game = start_game("stage1_echo", server.port)
    game.until("round_trip_ms is not None")
    toggle(game)
    shown = game.until("len(graph['round_trips']) >= 3")
    assert set(shown["wire"]["sent_actions"]) == {"echo"}  # the graph's pings are the lesson's echo
    assert shown["graph"]["round_trips"][-1] == shown["round_trip_ms"]  # and it shows the lesson's figure


@pytest.mark.parametrize("stage", STAGES)
def test_its_rates_are_messages_a_second_on_the_times_it_is_given(stage):
    # Two seconds of frames at 60 a second, each frame one message in and two out, on
    # times the test gives the graph: its rates are checked on no machine's clock.
    graph = load_stage_game(ROOT / stage).NetGraph()
    for frame in range(2 * 60 + 1):
        graph.sample(1000 + frame / 60, frame, 2 * frame, None)
    figures = graph.figures()
    assert figures["in_per_s"] == pytest.approx(60, rel=0.05)
    assert figures["out_per_s"] == pytest.approx(120, rel=0.05)

"""The lessons' exercises: each answer that changes code is applied to a copy of its
stage (tests/answers.py) and run, and what the answer says happens is checked.
Answers that change no code point to the test that already checks them."""
import re
from pathlib import Path

import pytest

from answers import answers, apply
from harness import WireClient

START = [[140, 170], [420, 170]]  # START_POSITIONS in every server.py from stage 3 on


def applied(where, *names):
    """The stage folder, copied under `where`, with the answers `names` applied in turn."""
    for name in names:
        stage = apply(name, where)
    return str(stage)


def hold(game, key, frames):
    """Hold an arrow key for `frames` frames (one move each), let go, and return
    the game's snapshot once the server has handled every one of its moves."""
    game.frames(frames, keydown=[key])
    game.frames(1, keyup=[key])
    return game.echo()


def test_stage1_capitals_leave_the_round_trip_blank_until_the_game_changes_too(
        tmp_path, start_server, start_game):
    stage = applied(tmp_path, "stage1-2a")
    server = start_server(stage)
    shown = start_game(stage, server.port).echo()
    assert shown["round_trip_ms"] is None and shown["received"] >= 2  # echoes came back, untimed
    stage = applied(tmp_path, "stage1-2b")  # the game now looks up the text it sent
    assert start_game(stage, server.port).echo()["round_trip_ms"] is not None


def test_stage1_the_end_marker_inside_a_message_cuts_it_in_two(tmp_path, start_server, start_game):
    stage = applied(tmp_path, "stage1-4")
    server = start_server(stage)
    game = start_game(stage, server.port)
    assert "closed the connection" in game.until("error is not None")["error"]
    server.out.wait_for(r"^127\.0\.0\.1:\d+ sent bytes that do not decode; closing its connection$")


def test_stage2_a_third_and_a_fourth_player(start_server, connect_pair):
    server = start_server("stage2_queue")
    connect_pair(server)
    third = WireClient(server)
    third.wait_for("waiting")
    third.wait_logged(r"joined \(connected 3, waiting 1, games 1\)$")
    fourth = WireClient(server)
    fourth.wait_for("startgame")
    server.out.wait_for(rf"^game started: {re.escape(third.name)} vs {re.escape(fourth.name)}$")
    fourth.wait_logged(r"joined \(connected 4, waiting 0, games 2\)$")
    for client in (third, fourth):
        client.close()


def test_stage2_without_the_queue_reset_a_newcomer_plays_a_player_who_left(tmp_path, start_server):
    server = start_server(applied(tmp_path, "stage2-2"))
    leaver = WireClient(server)
    leaver.wait_for("waiting")
    leaver.close()
    server.wait_for_account(connected=0)
    second = WireClient(server)
    second.wait_for("startgame")  # at once: nobody real was waiting
    server.out.wait_for(rf"^game started: {re.escape(leaver.name)} vs {re.escape(second.name)}$")
    third = WireClient(server)
    third.wait_for("waiting")  # alone, while the second plays nobody
    second.close()  # the ghost is the second's opponent, so it goes back in the queue: the third plays it
    third.wait_for("startgame")
    server.out.wait_for(rf"^game started: {re.escape(third.name)} vs {re.escape(leaver.name)}$")
    third.close()


def test_stage3_each_game_starts_lower(tmp_path, start_server, start_two_games):
    stage = applied(tmp_path, "stage3-2")
    server = start_server(stage)
    game0 = start_two_games(stage, server.port)
    game1 = start_two_games(stage, server.port)
    assert [game.snapshot()["positions"] for game in game0] == [START] * 2
    assert [game.snapshot()["positions"] for game in game1] == [[[140, 190], [420, 190]]] * 2


@pytest.mark.parametrize("answers_applied, stops_at", [(["stage4-2a"], 0), (["stage4-2a", "stage4-2b"], 20)],
                         ids=["cut", "refused"])
def test_stage4_cutting_or_refusing_at_the_wall(tmp_path, start_server, start_two_games,
                                                answers_applied, stops_at):
    stage = applied(tmp_path, *answers_applied)
    server = start_server(stage)
    mover, _ = start_two_games(stage, server.port)
    assert hold(mover, "left", 8)["positions"][0] == [stops_at, 170]  # 8 steps of 30 from x = 140
    if stops_at:
        server.out.wait_for(r"sent .*: that would leave the arena.*; dropped$")


def test_stage4_a_move_for_the_other_player_is_dropped(tmp_path, start_server, start_two_games):
    stage = applied(tmp_path, "stage4-3")
    server = start_server(stage)
    cheat, opponent = start_two_games(stage, server.port)
    assert hold(cheat, "right", 5)["positions"] == START
    assert opponent.echo()["positions"] == START
    server.out.wait_for(r"^player \(127\.0\.0\.1:\d+\) sent \{'action': 'move', 'gameID': 0, 'player': 1, 'dx': 4, "
                        r"'dy': 0\}: not this player's game and player number; dropped$")


@pytest.mark.parametrize("limited", [False, True], ids=["no limit", "rate limit"])
def test_stage4_a_burst_of_60_moves(tmp_path, start_server, start_two_games, limited):
    stage = applied(tmp_path, "stage4-4a", *["stage4-4b"] * limited)
    server = start_server(stage)
    cheat, opponent = start_two_games(stage, server.port)
    hold(cheat, "right", 1)  # one tap: 60 moves
    steps = (opponent.echo()["positions"][0][0] - START[0][0]) // 4
    if limited:
        assert 30 <= steps < 60  # 30 saved, and what a straggling burst earns on the way
        server.out.wait_for(r"sent .*: more moves than a player makes.*; dropped$")
    else:
        assert steps == 60


def test_stage4_the_rate_limit_lets_a_held_key_through_jitter(tmp_path, start_server, start_proxy,
                                                              start_two_games):
    stage = applied(tmp_path, "stage4-4b")
    server = start_server(stage)
    mover, opponent = start_two_games(stage, start_proxy(server, 50, jitter=20).port)
    moves = hold(mover, "right", 90)["wire"]["sent_actions"].count("move")
    assert moves == 90
    assert opponent.echo()["positions"][0] == [START[0][0] + 4 * moves, 170]  # every move applied
    assert "more moves than a player makes" not in server.out.text()


@pytest.mark.parametrize("cheat, own, seen", [("stage5-1a", 10, 10), ("stage5-1b", 10, 20)],
                         ids=["double step", "double moves"])
def test_stage5_cheats(tmp_path, start_server, start_two_games, cheat, own, seen):
    stage = applied(tmp_path, cheat)
    server = start_server(stage)
    cheater, opponent = start_two_games(stage, server.port)
    assert hold(cheater, "right", 10)["positions"][0][0] == START[0][0] + 4 * own  # its own screen
    assert opponent.echo()["positions"][0][0] == START[0][0] + 4 * seen            # everyone else's


@pytest.mark.parametrize("answers_applied, own", [(["stage5-2a"], -20), (["stage5-2a", "stage5-2b"], 0)],
                         ids=["no walls", "corrected"])
def test_stage5_a_game_without_walls(tmp_path, start_server, start_two_games, answers_applied, own):
    stage = applied(tmp_path, *answers_applied)
    server = start_server(stage)
    mover, opponent = start_two_games(stage, server.port)
    assert hold(mover, "left", 40)["positions"][0][0] == own  # 40 steps of 4 from x = 140
    assert opponent.echo()["positions"][0][0] == 0            # the server kept it at the wall


def test_every_answer_on_the_pages_is_tested_here():
    tested = set(re.findall(r'"(stage\d-\d[a-z]?)"', Path(__file__).read_text(encoding="utf-8")))
    assert set(answers()) == tested

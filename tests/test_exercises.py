"""The lessons' exercises: each answer that changes code is applied to a copy of its
stage (tests/answers.py) and run, and what the answer says happens is checked.
Answers that change no code point to the test that already checks them."""
import re
from pathlib import Path

import pytest

from answers import answers, apply, capstone_steps
from harness import WireClient, wait_until
from test_relay import SOLO_FRAMES, play_match  # the scripted match that counts the messages per move

START = [[140, 170], [420, 170]]  # START_POSITIONS in every server.py from stage 3 on
TAG = ["tag-1", "tag-2", "tag-3", "tag-4", "tag-5", "tag-6", "tag-7"]  # the capstone's steps (lesson 10)
TOUCH_MOVES = 60  # moves right from player 0's start until the circles touch: x = 380, 40 from x = 420


def applied(where, *names):
    """The stage folder, copied under `where`, with the answers `names` applied in turn."""
    for name in names:
        stage = apply(name, where)
    return str(stage)


def tag_copy(where, freeze=None):
    """A copy of stage 5 with every step of the capstone applied in turn, as a class builds it;
    with `freeze`, its server holds a player caught for that many seconds instead of 1."""
    stage = applied(where, *TAG)
    if freeze is not None:
        server = Path(stage) / "server.py"
        server.write_text(server.read_text(encoding="utf-8").replace(
            "FREEZE_SECONDS = 1 ", f"FREEZE_SECONDS = {freeze} "), encoding="utf-8")
    return stage


def move(start, dx, dy=0):
    """A move of the player `start` (its startgame) names, as a game sends it."""
    return {"action": "move", "gameID": start["gameID"], "player": start["player"], "dx": dx, "dy": dy}


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


def test_tag_the_capstones_steps_are_on_its_page_in_order():
    assert capstone_steps() == TAG


def test_tag_a_catch_is_scored_only_when_the_servers_positions_touch(tmp_path, start_server, start_two_games):
    stage = tag_copy(tmp_path)
    server = start_server(stage)
    catcher, caught = start_two_games(stage, server.port)
    assert [game.snapshot()["it"] for game in (catcher, caught)] == [0, 0]  # startgame's new field
    shown = hold(catcher, "right", TOUCH_MOVES - 1)  # 44 pixels apart: no catch
    assert shown["scores"] == [0, 0] and "tagged" not in shown["wire"]["actions"]
    hold(catcher, "right", 1)  # 40 apart: they touch
    for game in (catcher, caught):
        shown = game.until("scores == [1, 0]")
        assert shown["it"] == 1 and shown["flash"] == "caught!"
        assert shown["wire"]["actions"].count("tagged") == 1
    server.out.wait_for(r"^game 0: player 0 caught player 1$")


def test_tag_a_games_claim_of_a_catch_scores_nothing(tmp_path, start_server):
    server = start_server(tag_copy(tmp_path))
    cheat, other = WireClient(server), WireClient(server)
    start = cheat.wait_for("startgame")
    other.wait_for("startgame")
    for claim in ({"action": "tagged", "it": 1, "scores": [5, 0]}, {"action": "caught", "player": 1},
                  {**move(start, 4), "caught": True, "it": 1, "scores": [5, 0]}):  # from across the arena
        cheat.send_message(claim)
    for player in (cheat, other):
        player.echo()
        assert "tagged" not in player.actions()
    cheat.wait_logged(r"sent \{'action': 'tagged', 'it': 1, 'scores': \[5, 0\]\}: no such action; dropped$")
    for _ in range(TOUCH_MOVES - 1):  # the claim's move was a move: one step of the 60
        cheat.send_message(move(start, 4))
    for player in (cheat, other):  # only the server's positions score: one point
        assert player.wait_for("tagged") == {"action": "tagged", "it": 1, "scores": [1, 0]}


def test_tag_the_server_holds_the_player_caught_then_lets_it_catch_back(tmp_path, start_server):
    server = start_server(tag_copy(tmp_path))
    catcher, caught = WireClient(server), WireClient(server)
    starts = catcher.wait_for("startgame"), caught.wait_for("startgame")

    def told_where(player):  # the positions of player 1 that `player` has been sent
        with player._changed:
            return [m for m in player.inbox if m["action"] == "position" and m["player"] == 1]

    for _ in range(TOUCH_MOVES):
        catcher.send_message(move(starts[0], 4))
    caught.wait_for("tagged")
    caught.send_message(move(starts[1], -4))  # held: it changes nothing, and the mover hears where it is
    caught.wait(lambda inbox: told_where(caught), "the held player's own position")
    assert told_where(caught) == [{"action": "position", "player": 1, "x": 420, "y": 170}]
    catcher.send_message(move(starts[0], 4))  # into the held player: no catch while it is held
    for player in (catcher, caught):
        player.echo()
        assert player.count("tagged") == 1
    assert told_where(catcher) == []  # the held player's move went to nobody else

    def still_held():
        asked = len(told_where(caught))
        caught.send_message(move(starts[1], 0))  # a step of nothing: held, or the catch back
        caught.wait(lambda inbox: len(told_where(caught)) > asked or caught.count("tagged") == 2,
                    "the answer to a move of the player caught")

    wait_until(lambda: caught.count("tagged") == 2, "the hold to end, and the player caught to catch back",
               step=still_held)
    assert caught.wait_for("tagged", 2) == {"action": "tagged", "it": 0, "scores": [1, 1]}
    catcher.wait_for("tagged", 2)  # the server sent the catcher the position before this: it has arrived too
    assert told_where(catcher)[-1:] == [{"action": "position", "player": 1, "x": 420, "y": 170}]
    assert all(m["x"] == 420 for m in told_where(caught))  # held where it was caught, to the end


def test_tag_a_frozen_game_sends_no_moves(tmp_path, start_server, start_two_games):
    stage = tag_copy(tmp_path, freeze=60)  # held for longer than any test runs
    server = start_server(stage)
    catcher, caught = start_two_games(stage, server.port)
    hold(catcher, "right", TOUCH_MOVES)
    caught.until("it == 1")
    shown = hold(caught, "left", 10)
    assert shown["wire"]["sent_actions"].count("move") == 0 and shown["positions"] == [[380, 170], [420, 170]]
    assert catcher.echo()["positions"] == [[380, 170], [420, 170]]


def test_tag_five_points_win_and_a_new_round_starts(tmp_path, start_server, start_two_games):
    stage = tag_copy(tmp_path, freeze=0)  # no hold: every move while they touch is a catch, each way
    server = start_server(stage)
    first, second = start_two_games(stage, server.port)
    hold(first, "right", TOUCH_MOVES + 8)  # catches 1 to 9, alternately: player 0 scores its 5th last
    for game in (first, second):
        shown = game.until("flash == 'player 0 wins!'")
        assert (shown["scores"], shown["it"], shown["positions"]) == ([0, 0], 1, START)
        assert shown["wire"]["actions"].count("tagged") == 9
        assert shown["wire"]["actions"].count("newround") == 1
    server.out.wait_for(r"^game 0: player 1 caught player 0$")


def test_tag_through_100_ms_of_lag_the_server_decides_and_both_see_the_same(tmp_path, start_server, start_proxy,
                                                                             start_two_games):
    stage = tag_copy(tmp_path)
    server = start_server(stage, counted=True)
    first, second = start_two_games(stage, start_proxy(server, 100).port)
    for frame in range(35):  # towards each other, both at once: they touch on the server after 30 moves each
        first.frames(1, keydown=["right"] if frame == 0 else [])
        second.frames(1, keydown=["left"] if frame == 0 else [])
    first.frames(1, keyup=["right"])
    second.frames(1, keyup=["left"])
    shown = [game.echo() for game in (first, second)]
    shown = [game.echo() for game in (first, second)]  # the second round: all the first round's replies are in
    assert shown[0]["scores"] == shown[1]["scores"] and sum(shown[0]["scores"]) >= 1
    assert shown[0]["it"] == shown[1]["it"]
    positions = server.sent_counts()["positions"]["0"]
    assert shown[0]["positions"] == shown[1]["positions"] == positions


def test_tag_a_move_still_costs_one_message_away_from_a_catch(tmp_path, start_server, start_two_games):
    counts, games, _ = play_match(tag_copy(tmp_path), start_server, start_two_games)  # they never touch
    moves = [game["wire"]["sent_actions"].count("move") for game in games]
    heard = [game["wire"]["actions"].count("position") for game in games]
    assert heard == [moves[1], moves[0]] and moves[0] >= SOLO_FRAMES
    assert not any("tagged" in game["wire"]["actions"] for game in games)
    assert sum(to.get("position", 0) for to in counts["messages"].values()) == sum(moves)  # 1.00 a move


def test_every_answer_on_the_pages_is_tested_here():
    tested = set(re.findall(r'"(stage\d-\d[a-z]?|tag-\d+)"', Path(__file__).read_text(encoding="utf-8")))
    assert set(answers()) == tested

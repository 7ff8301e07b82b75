"""Moves, from stage 4 on: the server checks every move, then relays it.

Stage 4 tells both players of every move ("positions"). Stage 5 tells only the
opponent ("position") and lets the mover move itself. The same scripted match
runs on each stage: two real game.py processes, driven by arrow keys, against
the real server.py. The counts are taken where the messages travel: in the
server's Channel.Send (tests/run_as.py --counted) and on each game's connection
(tests/game_driver.py). Nothing is computed from a formula.

A player held into the bottom right corner stops at both walls, and its
opponent sees it where it stopped (in stage 5 the mover moves itself, by
its own copy of the server's moved()).
"""
import pytest

from harness import MOVE_REPLY, POSIX_AND_WINDOWS, REPORT, stage_number, stages_from

pytestmark = POSIX_AND_WINDOWS  # every test here runs with the servers as on Windows too

TOLD_PER_MOVE = {4: 2, 5: 1}  # stage: how many players the server tells of each move
SOLO_FRAMES = 20  # frames in which only player 0 holds an arrow key
CORNER_FRAMES = 120  # frames holding down and right: from player 0's start, past both walls


def settle(*games):
    """Two rounds of echo round trips: after them, everything sent earlier has arrived."""
    for _ in range(2):
        for game in games:
            echoes = game.snapshot()["wire"]["actions"].count("echo")
            game.frames(1, keydown=["space"], keyup=["space"])
            game.until(f"wire['actions'].count('echo') > {echoes}")


def hold(game, keys, frames):
    game.frames(frames, keydown=keys)
    game.frames(1, keyup=keys)


def play_match(stage, start_server, start_two_games):
    """The scripted match; returns (server's counts, both games at the end, both after the solo)."""
    server = start_server(stage, counted=True)
    first, second = start_two_games(stage, server.port)
    hold(first, ["right"], SOLO_FRAMES)  # one player moves, the other watches
    settle(first, second)
    after_solo = first.snapshot(), second.snapshot()
    hold(second, ["down", "left"], 15)   # a diagonal: still one message a frame
    hold(first, ["up"], 50)              # into the wall, where the arena stops it
    for frame in range(10):              # both at once, frame by frame
        first.frames(1, keydown=["right"] if frame == 0 else [])
        second.frames(1, keydown=["up"] if frame == 0 else [])
    first.frames(1, keyup=["right"])
    second.frames(1, keyup=["up"])
    settle(first, second)
    return server.sent_counts(), (first.snapshot(), second.snapshot()), after_solo


@pytest.mark.parametrize("stage", stages_from(4))
def test_scripted_match_counts_the_messages_per_move(stage, start_server, start_two_games):
    action, told_per_move = MOVE_REPLY[stage_number(stage)], TOLD_PER_MOVE[stage_number(stage)]
    counts, (first, second), (first_solo, second_solo) = play_match(stage, start_server, start_two_games)
    games = first, second

    moves = [game["wire"]["sent_actions"].count("move") for game in games]
    assert moves == [SOLO_FRAMES + 50 + 10, 15 + 10]  # one move per frame with arrows held
    sent_to = [counts["messages"][game["wire"]["address"]] for game in games]
    heard = [game["wire"]["actions"].count(action) for game in games]
    assert heard == [to[action] for to in sent_to]  # what the server sent is what arrived
    assert sum(heard) == told_per_move * sum(moves)
    if told_per_move == 2:
        assert heard == [sum(moves), sum(moves)]  # both hear of every move
    else:
        assert heard == [moves[1], moves[0]]      # only the opponent hears of a move

    solo_heard = [game["wire"]["actions"].count(action) for game in (first_solo, second_solo)]
    assert solo_heard == [SOLO_FRAMES if told_per_move == 2 else 0, SOLO_FRAMES]

    for game in games:  # the counters on screen are what crossed the wire
        assert (game["sent"], game["received"]) == (game["wire"]["sent"], game["wire"]["received"])
    server_positions = counts["positions"][str(first["game_id"])]
    assert first["positions"] == second["positions"] == server_positions
    assert server_positions[0][1] == 0  # clamped at the top wall, the same on every side

    relay_bytes = sum(sizes.get(action, 0) for sizes in counts["bytes"].values())
    REPORT.setdefault("relay", {})[stage] = {
        "moves": sum(moves), "messages": sum(heard) / sum(moves), "bytes": relay_bytes / sum(moves),
        "to mover": solo_heard[0] / SOLO_FRAMES, "to opponent": solo_heard[1] / SOLO_FRAMES}


@pytest.mark.parametrize("stage", stages_from(4))
def test_a_player_held_against_the_bottom_and_right_walls_is_where_its_opponent_sees_it(
        stage, start_server, start_two_games):
    server = start_server(stage, counted=True)
    first, second = start_two_games(stage, server.port)
    width, height = first.snapshot()["arena"]
    hold(first, ["down", "right"], CORNER_FRAMES)
    settle(first, second)
    mover, watcher = first.snapshot(), second.snapshot()
    counts = server.sent_counts()
    assert mover["wire"]["sent_actions"].count("move") == CORNER_FRAMES
    assert mover["positions"][0] == watcher["positions"][0] == [width, height]  # in the corner, seen there
    assert counts["positions"][str(mover["game_id"])][0] == [width, height]     # where the server has it


@pytest.mark.parametrize("stage", stages_from(4))
def test_an_arrow_key_held_while_waiting_sends_nothing_and_fails_nothing(stage, start_server, start_game):
    server = start_server(stage)
    game = start_game(stage, server.port)
    game.until("state == 'waiting for an opponent'")
    held = game.frames(30, keydown=["right"])  # half a second with no game to move in
    game.frames(1, keyup=["right"])
    assert "move" not in held["wire"]["sent_actions"]
    assert game.close_window()["running"] is False
    assert game.err.all_lines() == []  # no "update() failed" line

"""tools/bot.py, the bot player, as a teacher runs it: a real process against the real server.py,
paired with a real game.py (tests/game_driver.py), in every stage from 2 to 5.

In stages 4 and 5 the bot moves like a player, so its messages per move are the
stage's: counted where they are sent (the server's Channel.Send, run_as.py
--counted; the bot's connection.Send), 2.00 in stage 4 and 1.00 in stage 5.
"""
import random
import re
import signal
import sys
from types import SimpleNamespace

import pytest

from harness import (MOVE_REPLY, ROOT, TIMEOUT, Reader, free_port, launch, stage_number, stages_from,
                     wait_until)

sys.path.insert(0, str(ROOT / "tools"))
import bot  # noqa: E402 (tools/bot.py, for its pilot)
from stagegame import load_stage_game  # noqa: E402

HEARD_MOVES = 240  # the opponent's moves the game hears: some seconds of a player's holding and pausing
DOT_RADIUS = 20   # a dot this far from a wall touches it


class Bot:
    """tools/bot.py in its own process, its lines read as they come."""

    def __init__(self, stage, port, seed=1, folder=None):
        self.proc = launch("tools/bot.py", "--stage", folder or stage_number(stage), "--port", port, "--seed", seed)
        self.out, self.err = Reader(self.proc.stdout), Reader(self.proc.stderr)

    def stop(self):
        """Ctrl+C, as in a terminal: the bot's exit code and the moves it says it sent."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(TIMEOUT)
        return code, int(self.out.wait_for(r"^bot: stopped, after (\d+) moves").group(1))


@pytest.fixture
def start_bot():
    bots = []

    def start(stage, port, **options):
        bots.append(Bot(stage, port, **options))
        return bots[-1]

    yield start
    for bot in bots:
        if bot.proc.poll() is None:
            bot.proc.kill()
            bot.proc.wait(TIMEOUT)
        assert "Traceback" not in bot.err.text(), bot.err.text()


@pytest.mark.parametrize("stage", stages_from(2))
def test_the_bot_pairs_and_plays_with_a_game(stage, start_server, start_game, start_bot):
    server = start_server(stage, counted=True)
    bot = start_bot(stage, server.port)
    bot.out.wait_for(r"^bot: connected to 127\.0\.0\.1:\d+ \(stage \d")
    bot.out.wait_for(r"^bot: waiting for an opponent$")
    server.out.wait_for(r"^bot \(127\.0\.0\.1:\d+\) joined \(")  # its name says it is a bot
    game = start_game(stage, server.port)
    shown = game.until("state.startswith('in game')")
    started = bot.out.wait_for(r"^bot: in game( (\d+) as player (\d))?$")
    if stage_number(stage) >= 3:  # the same game, the other player
        assert (shown["game_id"], shown["number"]) == (int(started.group(2)), 1 - int(started.group(3)))
    if stage_number(stage) >= 4:
        reply, them = MOVE_REPLY[stage_number(stage)], 1 - shown["number"]
        width, height = shown["arena"]
        frames = [shown]
        wait_until(lambda: frames[-1]["wire"]["actions"].count(reply) >= HEARD_MOVES,
                   f"the game to hear {HEARD_MOVES} moves of the bot's", 2 * TIMEOUT,
                   step=lambda: frames.append(game.frames(10)))
        seen = [frame["positions"][them] for frame in frames]
        assert len({tuple(point) for point in seen}) > 10, seen  # the bot's dot moved, and turned
        assert all(DOT_RADIUS <= x <= width - DOT_RADIUS and DOT_RADIUS <= y <= height - DOT_RADIUS
                   for x, y in seen), seen  # never touching a wall: the whole dot inside
    code, moves = bot.stop()
    assert code == 0 and "Traceback" not in bot.err.text(), bot.err.text()
    server.wait_for_account(connected=1)  # the bot has gone, and the server has read all it sent
    left = game.until("notice is not None and state == 'waiting for an opponent'")
    if stage_number(stage) >= 4:
        address = left["wire"]["address"]
        sent = server.sent_counts()["messages"]
        replies = sum(counts.get(reply, 0) for counts in sent.values())
        assert moves >= HEARD_MOVES and left["wire"]["actions"].count(reply) == moves
        per_move = replies / moves
        assert per_move == {4: 2.0, 5: 1.0}[stage_number(stage)], (replies, moves, sent)
        to_bot = replies - sent[address][reply]
        assert to_bot == (moves if stage_number(stage) == 4 else 0)
        print(f"{stage}: {moves} moves by the bot, {replies} {reply} messages: {per_move:.2f} a move")


def test_the_bot_plays_tag_it_chases_when_it_is_it_and_flees_when_not(tmp_path, start_server, start_game,
                                                                       start_bot):
    sys.path.insert(0, str(ROOT / "tests"))
    from test_exercises import tag_copy  # the capstone's answer, tag-1 to tag-7 on a copy of stage 5
    stage = tag_copy(tmp_path)
    server = start_server(stage)
    bot = start_bot(stage, server.port, folder=stage)  # the bot is player 0, and it is it
    bot.out.wait_for(r"^bot: waiting for an opponent$")
    game = start_game(stage, server.port)  # player 1 stands still
    game.until("it == 1 and scores == [1, 0]")  # caught
    far = "(positions[0][0] - positions[1][0]) ** 2 + (positions[0][1] - positions[1][1]) ** 2 > 200 ** 2"
    shown = game.until(far)  # the bot runs away from whoever is it
    assert shown["scores"] == [1, 0]
    code, _ = bot.stop()
    assert code == 0


def test_the_bot_waits_again_when_its_opponent_leaves(start_server, start_game, start_bot):
    stage = stages_from(2)[-1]
    server = start_server(stage)
    bot = start_bot(stage, server.port)
    bot.out.wait_for(r"^bot: waiting for an opponent$")
    first = start_game(stage, server.port)
    first.until("state.startswith('in game')")
    after = len(bot.out.lines)
    first.close_window()
    bot.out.wait_for(r"^bot: Your opponent left, so you are back in the queue\.$", after=after)
    second = start_game(stage, server.port)
    second.until("state.startswith('in game')")
    bot.out.wait_for(r"^bot: in game 1 as player 0$", after=after)


def test_the_bot_says_in_one_line_that_there_is_no_server(start_bot):
    bot = start_bot("stage4_relay", free_port())
    assert bot.proc.wait(TIMEOUT) == 1
    bot.err.wait_for("^No server")
    assert len(bot.err.lines) == 1 and not bot.out.lines
    assert re.fullmatch(r"No server at 127\.0\.0\.1:\d+ \(.+\)\. Start one first: python3 \S*kit\.py server --stage 4 --port \d+",
                        bot.err.text()), bot.err.text()


def test_the_bot_says_that_stage_1_has_no_games(start_bot):
    bot = start_bot("stage1_echo", free_port())
    assert bot.proc.wait(TIMEOUT) == 2
    bot.err.wait_for("stage 1 has no games")
    assert len(bot.err.lines) == 1 and not bot.out.lines


def test_ctrl_c_stops_a_waiting_bot_quietly(start_server, start_bot):
    server = start_server(stages_from(2)[0])
    bot = start_bot(server.stage, server.port)
    bot.out.wait_for(r"^bot: waiting for an opponent$")
    assert bot.stop() == (0, 0)
    assert not bot.err.lines


SEEDS = 100


@pytest.mark.parametrize("stage", stages_from(4))
def test_the_bot_never_drives_its_dot_into_a_wall_whatever_its_seed(stage):
    # A simulated minute of frames for each of many seeds: the bot's own pilot presses
    # the keys, and its dot moves by the game's rule, a step of speed a frame, inside the arena.
    game_module = load_stage_game(ROOT / stage)
    arena, starts, speed = [560, 340], [[140, 170], [420, 170]], 4  # as every server.py starts a game
    for seed in range(SEEDS):
        pilot = bot.Pilot(game_module, random.Random(seed))
        game = SimpleNamespace(positions=[list(start) for start in starts], game_id=0, number=seed % 2,
                               arena=arena, speed=speed)
        held = set()
        for frame in range(60 * 60):
            for event in pilot.events(game):
                (held.add if event.type == bot.pygame.KEYDOWN else held.discard)(event.key)
            at = game.positions[game.number]
            for axis in (0, 1):
                at[axis] += sum(game_module.ARROWS[key][axis] for key in held) * speed
                assert DOT_RADIUS <= at[axis] <= arena[axis] - DOT_RADIUS, \
                    f"seed {seed}: the dot reached a wall at {at} after {frame / 60:.1f} s"

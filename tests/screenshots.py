"""Regenerates the README's screenshots from the real stages, headless.

    make screenshots        (or: python tests/screenshots.py)

Each picture is a real game.py window, connected to a real server.py and
driven by scripted keys, saved as docs/<stage>.png. Run it again whenever a
stage's drawing changes.
"""
import sys
from contextlib import ExitStack

from harness import ROOT, GameProcess, ServerProcess

DOCS = ROOT / "docs"


def echo(game, times=1):
    """Press space and let the reply arrive, so the round trip on screen is fresh."""
    for _ in range(times):
        echoes = game.snapshot()["wire"]["actions"].count("echo")
        game.frames(1, keydown=["space"], keyup=["space"])
        game.until(f"wire['actions'].count('echo') > {echoes}")
        game.frames(5)


def two_games(stage, server, cleanup):
    first = cleanup(GameProcess(stage, server.port))
    first.until("state == 'waiting for an opponent'")
    second = cleanup(GameProcess(stage, server.port))
    first.until("state.startswith('in game')")
    second.until("state.startswith('in game')")
    return first, second


def after_a_few_echoes(stage, server, cleanup):  # stage 1
    game = cleanup(GameProcess(stage, server.port))
    game.until("round_trip_ms is not None")
    echo(game, times=3)
    return game


def waiting_alone(stage, server, cleanup):  # stage 2
    game = cleanup(GameProcess(stage, server.port))
    game.until("state == 'waiting for an opponent'")
    echo(game)
    return game


def both_in_game(stage, server, cleanup):  # stage 3
    first, second = two_games(stage, server, cleanup)
    echo(first)
    echo(second)
    return second


def mid_match(stage, server, cleanup):  # stages 4 and 5
    first, second = two_games(stage, server, cleanup)
    first.frames(30, keydown=["right", "down"])
    first.frames(1, keyup=["right", "down"])
    second.frames(25, keydown=["left", "up"])
    second.frames(1, keyup=["left", "up"])
    first.frames(20, keydown=["right"])  # still holding the key: the counters are climbing
    second.frames(5)
    echo(second)
    echo(first)
    return first


SCENES = {"stage1_echo": after_a_few_echoes, "stage2_queue": waiting_alone,
          "stage3_startgame": both_in_game, "stage4_relay": mid_match, "stage5_optimized": mid_match}


def main():
    DOCS.mkdir(exist_ok=True)
    for stage, scene in SCENES.items():
        with ExitStack() as stack:
            server = ServerProcess(stage)
            stack.callback(server.stop)

            def cleanup(game):
                stack.callback(game.kill)
                return game

            game = scene(stage, server, cleanup)
            game.screenshot(DOCS / f"{stage}.png")
            print(f"docs/{stage}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())

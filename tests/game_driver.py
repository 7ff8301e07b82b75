"""Runs one stage's real game.py headless, driven by JSON commands on stdin.

    python tests/game_driver.py STAGE_DIR PORT [HOST [NAME]]

It builds the stage's own Game and runs the frame that game.py's play() runs,
handle_event() for each event, update(), draw(), at the game's FPS, with key
presses and releases scripted by the test. After every command it writes one
JSON line to stdout: a snapshot of what the game shows and what crossed the
wire. The wire counts are taken here, at the PodSixNet layer (the connection's
Send and its message decoder), not from the game's own counters, so a test can
check the counters on screen against them.

Commands: {"cmd": "frames", "count": N, "keydown": [...], "keyup": [...]},
{"cmd": "until", "condition": "<Python expression over the snapshot>", "timeout": S},
{"cmd": "screenshot", "path": P} and {"cmd": "close"}.
"""
import json
import sys
import time
import traceback
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from stagegame import Wire, key_event, load_stage_game  # noqa: E402 (shared with tools/bot.py)

import pygame  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from PodSixNet.Channel import Channel  # noqa: E402
    from PodSixNet.Connection import connection  # noqa: E402

NAME = "player"  # every test's game has this name unless it gives one: the same on every machine
SNAPSHOT = ("state", "notice", "error", "running", "exit_code", "sent", "received", "echo_sent_at",
            "round_trip_ms", "game_id", "number", "positions", "arena",
            "it", "scores", "flash", "flash_until", "frozen_until")  # the capstone's tag (lesson 10)


def main():
    stage_dir, port = sys.argv[1], int(sys.argv[2])
    host = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
    name = sys.argv[4] if len(sys.argv) > 4 else NAME
    stage = load_stage_game(stage_dir)
    pygame.init()
    screen = pygame.display.set_mode((stage.WIDTH, stage.HEIGHT))
    wire = Wire()
    game = stage.ArmouredGame(host, port, name)  # as game.py's main() makes it, with --name
    clock = pygame.time.Clock()

    times = {"frame_started": None}  # on the clock all processes share: CLOCK_MONOTONIC

    def frame(events=()):
        times["frame_started"] = time.monotonic()
        for event in events:
            game.handle_event(event)
        game.update()
        game.draw(screen)
        pygame.display.flip()
        clock.tick(stage.FPS)

    def snapshot():
        shown = {name: getattr(game, name, None) for name in SNAPSHOT}
        shown["clock"] = {"now": time.monotonic(), **times}
        shown["graph"] = game.graph.figures()  # the net graph's figures, shown or not
        shown["wire"] = {"sent": wire.sent, "received": len(wire.received_actions),
                         "sent_bytes": wire.sent_bytes, "actions": wire.received_actions,
                         "sent_actions": wire.sent_actions, "address": wire.address()}
        return json.loads(json.dumps(shown, default=str))

    # A real game runs its frames from the start, and says hello in the first ones. The server
    # pairs a game once its hello has come, so run frames until it has gone (or the game has
    # failed): a test may start two games and then drive only the first.
    while not getattr(game, "introduced", True) and game.error is None and game.running:
        frame()
    Channel.Pump(connection)
    for line in sys.stdin:
        command = json.loads(line)
        try:
            if command["cmd"] == "frames":
                events = [key_event(pygame.KEYDOWN, k) for k in command["keydown"]]
                events += [key_event(pygame.KEYUP, k) for k in command["keyup"]]
                frame(events)
                for _ in range(command["count"] - 1):
                    frame()
            elif command["cmd"] == "until":
                deadline = time.monotonic() + command["timeout"]
                while not eval(command["condition"], {}, snapshot()):
                    if time.monotonic() > deadline or not game.running:
                        raise AssertionError(f"never true: {command['condition']}")
                    frame()
            elif command["cmd"] == "screenshot":
                pygame.image.save(screen, command["path"])
            elif command["cmd"] == "close":
                frame([pygame.event.Event(pygame.QUIT)])
                reply = snapshot()
                pygame.quit()
                print(json.dumps(reply), flush=True)
                return 0
            # What the last frame queued goes out now, as the next frame's connection.Pump()
            # would send it: the game waits here for the test's next command, and a real
            # game never waits (its first echo, its hello, must reach the server in time).
            Channel.Pump(connection)
            print(json.dumps(snapshot()), flush=True)
        except Exception as error:
            print(json.dumps({"failed": f"{error!r}", "snapshot": snapshot(),
                              "trace": traceback.format_exc()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

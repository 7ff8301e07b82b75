"""A bot player: an opponent for the odd student in a class, or for a student alone at home.

    python tools/bot.py [--stage N] [--host HOST] [--port PORT] [--seed S]

It joins a stage 2-5 server as a game would, because it is that stage's own
game.py, run without a window: this file builds the stage's ArmouredGame and
runs the same frame as game.py does, 60 times a second. In stages 4 and 5 it
plays like a person at the keyboard: it holds an arrow key (or two, a
diagonal) for a while, lets go, pauses, and turns, and it turns before a wall.
So it sends exactly what a student's game sends. It prints one line for each
change a teacher cares about. Ctrl+C stops it.
"""
import argparse
import random
import re
import signal
import sys

from stages import ROOT, STAGES  # the kit's folder, and {4: "stage4_relay", ...}
from stagegame import Wire, key_event, load_stage_game  # sets up pygame with no window first

import pygame

DIRECTIONS = (("left",), ("right",), ("up",), ("down",),
              ("left", "up"), ("right", "up"), ("left", "down"), ("right", "down"))
HOLD_FRAMES = (18, 90)    # how long it holds a direction: 0.3 to 1.5 s at 60 frames a second
PAUSE_FRAMES = (12, 45)   # and how long it pauses before the next: 0.2 to 0.75 s
MARGIN = 40               # it turns this far from a wall (a dot's radius is 20)


class Pilot:
    """Presses and releases the arrow keys, as a player does, one frame at a time.

    It knows where its dot is by the game's own rule: each frame that a key is
    down, the game sends one move of `speed` each way, so the pilot adds the
    same step to its own reckoning. That holds in stage 4 too, where the dot
    moves only when the server's answer arrives."""

    def __init__(self, stage, rng):
        self.arrows, self.rng = stage.ARROWS, rng
        self.held, self.frames_left, self.game, self.at = (), 0, None, None

    def events(self, game):
        """The key events for this frame."""
        if game.positions is None:  # not in a game: let go of everything
            self.game = None
            return self.press(())
        if self.game != (game.game_id, game.number):  # a new game: start from where it puts us
            self.game, self.at = (game.game_id, game.number), list(game.positions[game.number])
        self.frames_left -= 1
        if self.held and (self.frames_left <= 0 or not inside(self.step(self.held, game), game.arena)):
            events = self.press(())
            self.frames_left = self.rng.randint(*PAUSE_FRAMES)
        elif not self.held and self.frames_left <= 0:
            ways = [keys for keys in DIRECTIONS if inside(self.step(keys, game), game.arena)]
            events = self.press(self.rng.choice(ways or DIRECTIONS))
            self.frames_left = self.rng.randint(*HOLD_FRAMES)
        else:
            events = []
        if self.held:
            self.at = self.step(self.held, game)  # this frame's move, as the game sends it
        return events

    def step(self, keys, game):
        codes = [pygame.key.key_code(name) for name in keys]
        return [self.at[axis] + sum(self.arrows[code][axis] for code in codes) * game.speed
                for axis in (0, 1)]

    def press(self, keys):
        events = [key_event(pygame.KEYUP, name) for name in self.held if name not in keys]
        events += [key_event(pygame.KEYDOWN, name) for name in keys if name not in self.held]
        self.held = keys
        return events


def inside(point, arena):
    return all(MARGIN <= point[axis] <= arena[axis] - MARGIN for axis in (0, 1))


def stage_folder(stage):
    """The folder of stage `stage` ("4" or "stage4_relay"), or None."""
    number = re.fullmatch(r"(?:stage)?(\d+)(?:_\w+)?", stage.strip("/\\"))
    return ROOT / STAGES[int(number.group(1))] if number and int(number.group(1)) in STAGES else None


def play(stage, host, port, rng, name="bot"):
    pygame.display.init()  # only what the game uses, as game.py's main() does
    pygame.font.init()
    screen = pygame.Surface((stage.WIDTH, stage.HEIGHT))  # drawn on, never shown
    wire = Wire()
    game = stage.ArmouredGame(host, port, name)
    pilot = Pilot(stage, rng) if hasattr(stage, "ARROWS") else None
    clock, said, stop = pygame.time.Clock(), "connecting", []
    for name in ("SIGINT", "SIGTERM"):  # Ctrl+C, or a `kill`: stop after this frame
        signal.signal(getattr(signal, name), lambda number, frame: stop.append(number))
    while game.error is None and not stop:  # the game has said what went wrong, in one line
        for event in pilot.events(game) if pilot else ():
            game.handle_event(event)
        game.update()
        game.draw(screen)
        clock.tick(stage.FPS)
        news = game.notice or game.state  # the notice says why it waits again: its opponent left
        if news != said and game.error is None:
            if said == "connecting":
                print(f"bot: connected to {game.address} ({stage.STAGE}; Ctrl+C stops it)", flush=True)
            if news != "connected":
                print(f"bot: {news}", flush=True)
            said = news
    if stop:
        moves = wire.sent_actions.count("move")
        print(f"bot: stopped, after {moves} moves ({wire.sent} messages sent, "
              f"{len(wire.received_actions)} received)", flush=True)
    return game.exit_code


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default=str(max(STAGES)),
                        help="the stage's number (2 to %(default)s, the default), or its folder's name")
    parser.add_argument("--host", default="127.0.0.1", help="the server's address (default %(default)s)")
    parser.add_argument("--port", type=int, default=31425, help="the server's port (default %(default)s)")
    parser.add_argument("--seed", type=int, help="the same moves each run")
    parser.add_argument("--name", default="", help="its name after 'bot', as the server and the class view show it")
    args = parser.parse_args()
    name = f"bot {args.name}".strip()  # a bot's name says it is a bot
    folder = stage_folder(args.stage)
    if folder is None:
        parser.exit(2, f"bot: there is no stage {args.stage}: say 2, 3, 4 or 5 (--stage 4).\n")
    if folder.name.startswith("stage1_"):
        parser.exit(2, "bot: stage 1 has no games, only echoes, so there is nothing to play: "
                       "start the bot with a stage from 2 to 5.\n")
    try:
        stage = load_stage_game(folder)
        if stage.name_refused(name):
            parser.exit(2, f"bot: --name {ascii(args.name)} {stage.name_refused(name)}: choose another.\n")
        return play(stage, args.host, args.port, random.Random(args.seed), name)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())

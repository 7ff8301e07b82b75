"""A bot player: an opponent for the odd student in a class, or for a student alone at home.

    python tools/bot.py [--stage N|FOLDER] [--host HOST] [--port PORT] [--seed S]

It joins a stage 2-5 server as a game would, because it is that stage's own
game.py, run without a window: this file builds the stage's ArmouredGame and
runs the same frame as game.py does, 60 times a second. In stages 4 and 5 it
plays like a person at the keyboard: it holds an arrow key (or two, a
diagonal) for a while, lets go, pauses, and turns, and it turns before a wall.
So it sends exactly what a student's game sends. Against the capstone's tag
(lesson 10: --stage FOLDER, a copy of stage 5 whose game has an `it`), it chases
its opponent when it is it and flees when it is not, choosing again every few
frames, as a person reacts. It prints one line for each change a teacher cares
about. Ctrl+C stops it.
"""
import argparse
import math
import random
import signal
import sys

from stages import STAGES, stage_folder  # {4: "stage4_relay", ...}; the folder --stage names
from stagegame import Wire, key_event, load_stage_game  # sets up pygame with no window first

import pygame

DIRECTIONS = (("left",), ("right",), ("up",), ("down",),
              ("left", "up"), ("right", "up"), ("left", "down"), ("right", "down"))
HOLD_FRAMES = (18, 90)    # how long it holds a direction: 0.3 to 1.5 s at 60 frames a second
PAUSE_FRAMES = (12, 45)   # and how long it pauses before the next: 0.2 to 0.75 s
MARGIN = 40               # it turns this far from a wall (a dot's radius is 20)
REACT_FRAMES = (6, 15)    # in tag, how often it chooses again which way to run: 0.1 to 0.25 s
LOOK_AHEAD = 10           # and it judges a way by where this many steps of it would take it


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
        if getattr(game, "it", None) is not None:
            return self.tag(game)
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

    def tag(self, game):
        """Chase the opponent when it is it, flee when not: every few frames, the way
        whose steps end nearest to (or furthest from) the opponent, as the server
        would keep them, inside the arena. Where it is: the game's own position,
        which the server corrects when it holds the bot."""
        self.frames_left -= 1
        if self.frames_left > 0:
            return []
        self.frames_left = self.rng.randint(*REACT_FRAMES)
        me, other = game.positions[game.number], game.positions[1 - game.number]
        chasing = game.it == game.number

        def distance(keys):
            ahead = [me[axis] + sum(self.arrows[pygame.key.key_code(name)][axis] for name in keys)
                     * game.speed * LOOK_AHEAD for axis in (0, 1)]
            ahead = [min(max(ahead[axis], 0), game.arena[axis]) for axis in (0, 1)]
            return math.dist(ahead, other) if chasing else -math.dist(ahead, other)

        return self.press(min(DIRECTIONS, key=distance))

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
                        help="the stage's number (2 to %(default)s, the default), or a folder with a "
                             "server.py and a game.py (a copy of a stage, such as the capstone's tag)")
    parser.add_argument("--host", default="127.0.0.1", help="the server's address (default %(default)s)")
    parser.add_argument("--port", type=int, default=31425, help="the server's port (default %(default)s)")
    parser.add_argument("--seed", type=int, help="the same moves each run")
    parser.add_argument("--name", default="", help="its name after 'bot', as the server and the class view show it")
    args = parser.parse_args()
    name = f"bot {args.name}".strip()  # a bot's name says it is a bot
    folder = stage_folder(args.stage)
    if folder is None:
        parser.exit(2, f"bot: there is no stage {args.stage}: say 2, 3, 4 or 5 (--stage 4), or a folder "
                       f"with a server.py and a game.py.\n")
    if folder.name.startswith("stage1_"):
        parser.exit(2, "bot: stage 1 has no games, only echoes, so there is nothing to play: "
                       "start the bot with a stage from 2 to 5.\n")
    try:
        stage = load_stage_game(folder)
    except Exception as error:  # a student's copy with a mistake in it: one line, no traceback
        line = f", line {error.lineno}" if getattr(error, "lineno", None) else ""
        parser.exit(1, f"bot: {folder / 'game.py'} does not load ({type(error).__name__}{line}: {error}).\n")
    if stage.name_refused(name):
        parser.exit(2, f"bot: --name {ascii(args.name)} {stage.name_refused(name)}: choose another.\n")
    try:
        return play(stage, args.host, args.port, random.Random(args.seed), name)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())

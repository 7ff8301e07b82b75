"""A stage's real game.py, run without a window: shared by tools/bot.py and tests/game_driver.py.

load_stage_game() loads a stage's game.py as a module, key_event() makes the
key presses a player's keyboard would, and Wire counts what the game's
connection really sends and receives, at the PodSixNet layer.
"""
import os
import warnings

os.environ.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")  # before pygame starts: no window,
#                                          no sound, on any system (Windows, a server with no display)
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

from stages import load  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from PodSixNet.Connection import connection  # noqa: E402


def load_stage_game(stage_dir):
    return load(stage_dir, "game")


def key_event(kind, name):
    return pygame.event.Event(kind, key=pygame.key.key_code(name), mod=0, unicode="")


class Wire:
    """What the connection really sent and received, counted where it happens."""

    def __init__(self):
        self.sent = self.sent_bytes = 0
        self.sent_actions, self.received_actions = [], []
        send, network = connection.Send, connection.Network

        def counted_send(message):
            size = send(message)  # PodSixNet returns the bytes it queued
            self.sent += 1
            self.sent_bytes += size
            self.sent_actions.append(message.get("action"))
            return size

        def counted_network(message):  # PodSixNet calls this for every message off the wire
            self.received_actions.append(message.get("action"))
            return network(message)

        connection.Send, connection.Network = counted_send, counted_network

    def address(self):
        """Our end of the connection, as the server names this client."""
        try:
            return "%s:%d" % connection.socket.getsockname()[:2]
        except (AttributeError, OSError):
            return None  # not connected

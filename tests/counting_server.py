"""Runs a stage's real server.py, counting every message it sends at the PodSixNet layer.

    python tests/counting_server.py STAGE_DIR [server.py's own options]

It wraps PodSixNet's Channel.Send in this process, then runs the stage's
server.py, unchanged, as __main__. When the server stops, it prints one last
line, "sent: {json}": for each client (by address) the messages and bytes sent
to it per action, and each game's positions as the server holds them.
"""
import atexit
import json
import runpy
import sys
import warnings
from collections import Counter, defaultdict

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from PodSixNet.Channel import Channel

messages, sizes = defaultdict(Counter), defaultdict(Counter)
games = {}  # gameID -> the server's own Game object
send = Channel.Send


def counted_send(channel, message):
    size = send(channel, message)  # PodSixNet returns the bytes it queued
    to = getattr(channel, "name", "?")
    messages[to][message.get("action")] += 1
    sizes[to][message.get("action")] += size
    game = getattr(channel, "game", None)
    if hasattr(game, "id"):
        games[game.id] = game
    return size


def report():
    positions = {game_id: game.positions for game_id, game in games.items()}
    print("sent: " + json.dumps({"messages": messages, "bytes": sizes, "positions": positions}),
          flush=True)


Channel.Send = counted_send
atexit.register(report)
stage_dir = sys.argv.pop(1)
sys.argv[0] = f"{stage_dir}/server.py"
runpy.run_path(sys.argv[0], run_name="__main__")

"""Stage 3 of 5, startgame: the game learns which game it is in and which player it is.

What this stage adds to stage 2:
  * "startgame" carries the gameID, our player number (0 waited, 1 joined),
    the arena's size and both players' start positions. We keep them all:
    from stage 4 on, every move we send names our game and our number.
  * The window draws the arena and both players, and marks which one is you.

The lesson ends at the line "# Armour". Below it: what turns every network
failure into one clear line, the net graph (press G), and the command line,
the same in every stage.

Start the server first, then run this twice from the repo root:
    python stage3_startgame/game.py [--host HOST] [--port PORT]
"""
import os
import sys
import time
import warnings

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # keep the console for our lines
import pygame

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # why: see "# Armour" in server.py
    from PodSixNet.Connection import ConnectionListener, connection

STAGE = "stage 3: startgame"
WIDTH, HEIGHT = 640, 480
FPS = 60
BACKGROUND, TEXT, DIM, ALERT = (24, 26, 34), (235, 235, 235), (150, 156, 170), (255, 120, 100)
# PodSixNet's connection reports its own socket events as messages too. They
# never crossed the network, so the counters leave them out.
LOCAL_EVENTS = ("socketConnect", "disconnected", "error")
ARENA_ORIGIN = (40, 110)  # where the server's point (0, 0) is drawn
RADIUS = 20
PLAYER_COLOURS = ((90, 170, 255), (255, 175, 70))


class Game(ConnectionListener):
    """What one player sees: the connection, its messages and the window."""

    def __init__(self, host, port):
        self.address = f"{host}:{port}"
        self.state = "connecting"
        self.error = None            # what went wrong, shown until we exit
        self.notice = None           # news to show until the next game starts
        self.game_id = self.number = None  # from "startgame": our game, and our player number
        self.positions = self.arena = None
        self.running = True
        self.exit_code = 0
        self.sent = self.received = 0
        self.echo_sent_at = {}       # echo text -> when we sent it
        self.round_trip_ms = None
        self.font = pygame.font.Font(None, 26)
        self.big_font = pygame.font.Font(None, 44)
        self.Connect((host, port))   # PodSixNet: start connecting; connection.Pump() finishes it

    def send_counted(self, message):
        self.Send(message)  # queued; the next connection.Pump() sends it
        self.sent += 1

    def send_echo(self):
        text = f"echo {self.sent + 1}"
        self.echo_sent_at[text] = time.perf_counter()
        self.send_counted({"action": "echo", "text": text})

    def fail(self, reason):
        if self.error is None:  # the first reason is the one to show
            self.error, self.state, self.exit_code = reason, "disconnected", 1
            print(reason, file=sys.stderr, flush=True)

    # Messages. PodSixNet calls Network_<action>, then Network, for each one.

    def Network(self, message):
        if message["action"] not in LOCAL_EVENTS:
            self.received += 1

    def Network_connected(self, message):
        self.state = "connected"
        self.send_echo()

    def Network_echo(self, message):
        sent_at = self.echo_sent_at.pop(message.get("text"), None)
        if sent_at is not None:
            self.round_trip_ms = (time.perf_counter() - sent_at) * 1000

    def Network_waiting(self, message):
        self.state = "waiting for an opponent"

    def Network_startgame(self, message):
        self.game_id, self.number = message["gameID"], message["player"]
        self.positions, self.arena = message["positions"], message["arena"]
        self.state = f"in game {self.game_id} as player {self.number}"
        self.notice = None

    def Network_opponentleft(self, message):
        self.state = "opponent left"
        self.game_id = self.number = self.positions = None
        self.notice = "Your opponent left, so you are back in the queue."

    def Network_disconnected(self, message):
        self.fail(f"The server at {self.address} closed the connection.")

    # The frame: input, network, drawing.

    def handle_event(self, event):
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.KEYDOWN and event.key == pygame.K_SPACE:
            if self.state != "connecting":
                self.send_echo()

    def update(self):
        connection.Pump()  # send what we queued, read what has arrived
        self.Pump()        # run our Network_<action> methods on what arrived

    def draw(self, screen):
        screen.fill(BACKGROUND)
        status = f"{STAGE}  |  {self.state}  |  sent {self.sent}  received {self.received}"
        screen.blit(self.font.render(status, True, TEXT), (12, 10))
        if self.error:
            return draw_words(screen, self.font, self.error, ALERT, (12, 60))  # wrapped: below "# Armour"
        rtt = "-" if self.round_trip_ms is None else f"{self.round_trip_ms:.1f} ms"
        screen.blit(self.font.render(f"round trip {rtt}   (space: echo)", True, DIM), (12, 36))
        self.draw_scene(screen)

    def draw_scene(self, screen):
        if self.positions is not None:
            return self.draw_arena(screen)
        text = self.big_font.render(self.state, True, DIM)
        screen.blit(text, text.get_rect(center=(WIDTH // 2, HEIGHT // 2)))
        if self.notice:
            text = self.font.render(self.notice, True, ALERT)
            screen.blit(text, text.get_rect(center=(WIDTH // 2, HEIGHT // 2 + 50)))

    def draw_arena(self, screen):
        left, top = ARENA_ORIGIN
        title = f"Game {self.game_id}: you are player {self.number}"
        screen.blit(self.font.render(title, True, PLAYER_COLOURS[self.number]), (12, 62))
        width, height = self.arena  # positions are centres, so the wall is RADIUS further out
        pygame.draw.rect(screen, DIM, (left - RADIUS, top - RADIUS, width + 2 * RADIUS,
                                       height + 2 * RADIUS), 2)
        for number, (x, y) in enumerate(self.positions):
            centre = (left + x, top + y)
            pygame.draw.circle(screen, PLAYER_COLOURS[number], centre, RADIUS)
            if number == self.number:
                pygame.draw.circle(screen, TEXT, centre, RADIUS + 4, 2)  # a ring marks you
            label = self.font.render("you" if number == self.number else f"player {number}", True, TEXT)
            screen.blit(label, label.get_rect(midbottom=(centre[0], centre[1] - RADIUS - 6)))


def play(game, screen):
    """The frame loop, the heart of every pygame program: until the game stops
    running, FPS times a second, five steps make one frame."""
    clock = pygame.time.Clock()
    while game.running:
        for event in pygame.event.get():  # 1. events: keys, and the window's close button
            game.handle_event(event)
        game.update()                     # 2. update: send, read, run Network_<action>
        game.draw(screen)                 # 3. draw the frame, out of sight
        pygame.display.flip()             # 4. flip: show it in the window
        clock.tick(FPS)                   # 5. tick: wait, so that a frame lasts 1/FPS s


# Armour: below this line is what makes each network failure one clear line (no
# server, no answer, a server that vanishes, a message with no handler, or one
# the game cannot use), then the net graph (G; docs/handouts/lesson-8-see-the-network.md),
# then the command line. These lines are the same in every stage;
# docs/troubleshooting.md lists what they print.
import argparse
import copy
import getpass
import socket
import traceback
import unicodedata
from collections import deque

from PodSixNet.rencode import loads

STAGE_NUMBER = int(STAGE.split(":")[0].split()[-1])  # "stage 4: relay" -> 4
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 31425      # the server's default too
ERROR_SECONDS = 4         # how long an error stays up before the game exits
CONNECT_SECONDS = 8       # no answer in this long: a firewall, or no such machine
READ_BYTES = 4096         # the most read from the server a frame (a game's messages come at a few KiB a
#                           second): the rest waits in the socket, so no server can slow the frames down
MOST_LINES = 20           # lines about the server's mistakes, a kind each; past that, only counted
ECHOES_KEPT = 10          # echoes awaiting their reply (5 s of the net graph's); older ones are forgotten
MOST_NAME = 20            # characters in a player's name (--name), as the server allows
#                           (under TCP_USER_TIMEOUT's 10 s below, so this line comes first)
# A server's machine that sleeps, or leaves the network, vanishes without a word,
# and TCP alone notices only after many minutes. These socket options, where the
# OS has them, make it notice within about 11 s (docs/classroom-network.md).
VANISHING = (("TCP_KEEPIDLE", 5),     # after 5 s of silence, ask the peer if it is there
             ("TCP_KEEPALIVE", 5),    # (the same, as macOS names it)
             ("TCP_KEEPINTVL", 2),    # ask again every 2 s,
             ("TCP_KEEPCNT", 3),      # and after 3 asks unanswered, it has gone
             ("TCP_USER_TIMEOUT", 10000))  # Linux: or after 10 s of sent data unanswered
KIT_PY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools", "kit.py")
# The net graph (G shows and hides it). It starts hidden: the lesson is the two
# counters, and while it shows, the game sends an echo every PING_SECONDS to keep
# its round trip fresh, which the counters count too. Press G when the class is
# ready to watch the traffic. Its round trip is the lesson's own, sent and timed as a
# space's echo, and either reads one of two figures, graph or not: under a millisecond
# when the server's reply is in before the same frame's connection.Pump() reads (the
# network's own round trip), or about a frame, 1/FPS s, when the next frame reads it.
GRAPH_KEY = pygame.K_g
PING_SECONDS = 0.5
SAMPLE_SECONDS = 0.1      # one point of the graph
GRAPH_SECONDS = 5         # how far back it shows
IN_COLOUR, OUT_COLOUR, RTT_COLOUR = (110, 220, 130), (240, 200, 90), (200, 150, 255)
# The server may be a classmate's exercise, so a message is checked before the game
# keeps it: a coordinate further out than this is on no window (and past 2**63,
# pygame's drawing raises).
FARTHEST = 10 ** 6


class ArmouredGame(Game):
    """The lesson's Game, which says in one line what went wrong, never hangs, and
    never dies of a message its server sends."""

    def __init__(self, host, port, name=None):
        self.port, self.heard_from_server = port, False
        self.name, self.introduced = name or user_name(), False
        self.told, self.untold = set(), 0  # (action, kind) of each mistake of the server's we reported
        connection.found_terminator = self.read_message  # check each message before it is queued
        connection.ac_in_buffer_size = READ_BYTES  # what asynchat reads at a time: once a frame
        Game.__init__(self, host, port)
        self.connect_by = time.monotonic() + CONNECT_SECONDS
        if connection.socket is not None:
            notice_vanishing(connection.socket)  # so that a vanished server is noticed
        self.graph, self.next_ping = NetGraph(), 0.0
        # Count the bytes where they really cross: what the connection's socket
        # writes and reads (asyncore's send() and recv(), which PodSixNet calls).
        connection.send = counting(connection.send, self.graph, "bytes_out", len_of=lambda sent: sent)
        connection.recv = counting(connection.recv, self.graph, "bytes_in", len_of=len)

    def send_counted(self, message):
        if not self.introduced and message.get("action") == "echo":  # the hello: say who we are,
            self.introduced = True  # so that the server pairs only a game of its own stage
            message = {**message, "stage": STAGE_NUMBER, "name": self.name}
        Game.send_counted(self, message)

    def Network_otherstage(self, message):  # the server runs another stage, and will not pair us
        theirs = message.get("stage")
        self.fail(f"This game is stage {STAGE_NUMBER}, but the server at {self.address} runs stage {theirs}: "
                  f"ask for stage {STAGE_NUMBER}'s server, or start stage {theirs}'s game.")
        self.error_until = float("inf")  # stay open to show it, until a key or the close button

    def read_message(self):
        """PodSixNet's found_terminator(), which decodes each message off the wire and
        queues it, but a message that is not a dict with a string action is reported
        and dropped here: PodSixNet would print "OOB data", or close the connection."""
        raw, connection._ibuffer = connection._ibuffer, b""
        self.heard_from_server = True
        try:
            message = loads(raw)
        except Exception as error:
            return self.mistake("", "bytes", f"The server sent {len(raw)} bytes that are not a message "
                                f"({one_line(error)}), so game.py ignored them: {short(raw)}")
        if not isinstance(message, dict):
            return self.mistake("", "not a dict", "The server sent a message that is not a dict, "
                                f"so game.py ignored it: {short(message)}")
        action = message.get("action")
        if not isinstance(action, str):
            what = "with no action" if action is None else "whose action is not a string"
            return self.mistake("", what, f"The server sent a message {what}, so game.py ignored it: "
                                f"{short(message)}")
        if action in LOCAL_EVENTS:
            return self.mistake(action, "local", f"The server sent {action}, which only game.py's own "
                                f"connection may report, so game.py ignored it: {short(message)}")
        for name in (f"Network_{action}", "Network"):  # as PodSixNet's found_terminator() does
            if hasattr(connection, name):
                getattr(connection, name)(message)

    def Pump(self):
        """PodSixNet's ConnectionListener.Pump(), but a message is used whole or not at all:
        if its Network_<action> fails, or leaves something the window cannot draw, the
        game takes back what that method changed, says so once, and goes on."""
        for message in connection.GetQueue():
            action, before = message["action"], saved(self)
            handler = getattr(self, f"Network_{action}", None)
            try:
                if handler is not None:
                    handler(message)
                wrong = self.undrawable()
            except Exception as error:
                wrong = unusable(error, action, message)
            if wrong:
                vars(self).clear()  # back to what the game had before this message
                vars(self).update(before)
                self.mistake(action, wrong[0], f"The server sent {action} {wrong[1]}, so game.py "
                             f"ignored it: {short(message)}")
            self.Network(message)

    def undrawable(self):
        """(kind, in a few words) if the window could not draw what the game now holds."""
        players = len(globals().get("PLAYER_COLOURS", ()))  # stages 1 and 2 draw no players
        number, positions = getattr(self, "number", None), getattr(self, "positions", None)
        arena, speed = getattr(self, "arena", None), getattr(self, "speed", None)
        if number is not None and not (type(number) is int and 0 <= number < players):
            return "player", f"with player {short(number)}, which is not a player here (0 to {players - 1})"
        if positions is not None and number is None:
            return "order", "before startgame"
        if positions is not None and not (isinstance(positions, list) and len(positions) == players):
            return "positions", f"with positions {short(positions)}, which are not {players} pairs of numbers"
        for position in positions or ():
            if not is_point(position):
                return "position", f"with position {short(position)}, which the window cannot draw"
        if arena is not None and not is_point(arena):
            return "arena", f"with arena {short(arena)}, which is not a width and a height"
        if speed is not None and not is_number(speed):
            return "speed", f"with speed {short(speed)}, which is not a number"
        return None

    def mistake(self, action, kind, line):
        if (action, kind) in self.told:  # once: a server may repeat it every frame
            return
        if len(self.told) < MOST_LINES:
            self.told.add((action, kind))
            return say(line)
        if not self.untold:  # a server that sends kind after kind (x0, x1, ...) gets one line more
            say(f"The server has sent {MOST_LINES} kinds of message that game.py cannot use: it counts "
                "the rest, and says how many when it closes.")
        self.untold += 1

    def Network(self, message):
        Game.Network(self, message)
        action = message["action"]
        self.heard_from_server = self.heard_from_server or action not in LOCAL_EVENTS
        if action != "socketConnect" and not hasattr(self, f"Network_{action}"):
            self.mistake(action, "no handler", f"game.py has no Network_{action}, so it ignores {short(message)}")

    def send_echo(self):
        Game.send_echo(self)
        while len(self.echo_sent_at) > ECHOES_KEPT:  # a server that never answers: forget the oldest
            del self.echo_sent_at[next(iter(self.echo_sent_at))]

    def Network_error(self, message):
        error = message["error"]  # an exception, or the arguments of one
        why = error[-1] if isinstance(error, tuple) else (getattr(error, "strerror", None) or error)
        if self.state == "connecting" and self.address.startswith(("127.", "localhost:")):
            python, number = "py" if os.name == "nt" else "python3", STAGE.split(":")[0].split()[-1]
            self.fail(f"No server at {self.address} ({why}). Start one first: "  # with the launcher,
                      f"{python} {os.path.relpath(KIT_PY)} server --stage {number} --port {self.port}")  # no .venv to activate
        elif self.state == "connecting":
            self.fail(f"No server at {self.address} ({why}). Is it running there, "
                      "started with --host 0.0.0.0?")
        else:
            self.fail(f"Lost the connection to the server at {self.address} ({why}).")

    def fail(self, reason):
        if self.error is None:
            self.error_until = time.monotonic() + ERROR_SECONDS
        Game.fail(self, reason)

    def handle_event(self, event):
        if event.type == pygame.KEYDOWN and self.error:
            self.running = False  # any key closes the error screen
        elif event.type == pygame.KEYDOWN and event.key == GRAPH_KEY:
            self.graph.shown = not self.graph.shown
        else:
            Game.handle_event(self, event)

    def update(self):
        now = time.monotonic()
        if self.graph.shown and self.error is None and self.state != "connecting" and now > self.next_ping:
            self.next_ping = now + PING_SECONDS
            self.send_echo()  # the lesson's own echo, so the round trip stays fresh
        try:
            Game.update(self)
        except Exception as error:  # a last resort: the checks above should leave nothing to fail
            self.mistake("update", type(error), f"game.py's update() failed{where(error)} ({one_line(error)}), "
                         "so it goes on with the next frame")
        self.graph.sample(now, self.received, self.sent, self.round_trip_ms)
        if self.error is None and self.state != "connecting" and not connection.connected:
            # PodSixNet forgets an error that comes while it sends (EndPoint.Pump
            # empties its queue after sending), so ask the connection itself.
            self.fail(f"Lost the connection to the server at {self.address} (it stopped answering).")
        if self.state == "connecting" and not self.heard_from_server and time.monotonic() > self.connect_by:
            self.fail(f"No answer from {self.address} in {CONNECT_SECONDS} s. Is the server "
                      "running there, and does its firewall let players in?")
        if self.error and time.monotonic() > self.error_until:
            self.running = False
        if self.untold and not self.running:  # the game closes: say what mistake() did not
            say(f"... and {self.untold} more messages of the server's that game.py could not use, not shown.")
            self.untold = 0

    def draw(self, screen):
        try:
            Game.draw(self, screen)
        except Exception as error:  # a last resort, as in update()
            self.mistake("draw", type(error), f"game.py's draw() failed{where(error)} ({one_line(error)}), "
                         "so the window shows what it could draw")
        if self.error is None:
            if self.graph.shown:
                self.graph.draw(screen, self.font)
            else:
                hint = self.font.render("G: net graph", True, DIM)
                screen.blit(hint, hint.get_rect(topright=(WIDTH - 12, 36)))


class NetGraph:
    """The last few seconds of traffic, like a game engine's net graph: messages a
    second in and out, bytes a second, and the round trip of each echo."""

    def __init__(self):
        self.shown = False
        self.totals = {"messages_in": 0, "messages_out": 0, "bytes_in": 0, "bytes_out": 0}
        self.points = deque(maxlen=int(GRAPH_SECONDS / SAMPLE_SECONDS) + 1)  # (time, totals)
        self.round_trips = deque(maxlen=int(GRAPH_SECONDS / PING_SECONDS))   # ms
        self.last_round_trip = None

    def sample(self, now, received, sent, round_trip_ms):
        self.totals["messages_in"], self.totals["messages_out"] = received, sent
        if round_trip_ms is not None and round_trip_ms != self.last_round_trip:
            self.round_trips.append(round_trip_ms)  # a new echo came back
            self.last_round_trip = round_trip_ms
        if not self.points or now - self.points[-1][0] >= SAMPLE_SECONDS:
            self.points.append((now, dict(self.totals)))

    def rates(self, name):
        """Per second, over the second before each point."""
        per_second, points = [], list(self.points)
        back = int(1 / SAMPLE_SECONDS)
        for number in range(back, len(points)):
            (then, before), (now, after) = points[number - back], points[number]
            per_second.append((after[name] - before[name]) / max(now - then, SAMPLE_SECONDS))
        return per_second or [0.0]

    def figures(self):
        return {"shown": self.shown, **self.totals, "in_per_s": self.rates("messages_in")[-1],
                "out_per_s": self.rates("messages_out")[-1], "round_trips": list(self.round_trips)}

    def draw(self, screen, font):
        width, height = 270, 150
        left, top = WIDTH - width - 8, HEIGHT - height - 8
        panel = pygame.Surface((width, height), pygame.SRCALPHA)
        panel.fill((10, 12, 18, 215))
        screen.blit(panel, (left, top))
        ins, outs = self.rates("messages_in"), self.rates("messages_out")
        top_of_scale = nice_ceiling(max(ins + outs + [10]))
        plot = pygame.Rect(left + 8, top + 8, width - 16, 60)
        pygame.draw.line(screen, DIM, plot.bottomleft, plot.bottomright)  # 0 messages a second
        for values, colour, thickness in ((outs, OUT_COLOUR, 5), (ins, IN_COLOUR, 2)):  # in on top
            draw_line_graph(screen, plot, values, top_of_scale, colour, thickness)
        screen.blit(font.render(f"{top_of_scale}/s", True, DIM), (plot.right - 50, plot.top))
        kib = {name: rates[-1] / 1024 for name, rates in
               (("in", self.rates("bytes_in")), ("out", self.rates("bytes_out")))}
        rows = ((f"in  {ins[-1]:4.0f} msg/s  {kib['in']:5.1f} KiB/s", IN_COLOUR, 72),
                (f"out {outs[-1]:4.0f} msg/s  {kib['out']:5.1f} KiB/s", OUT_COLOUR, 92))
        for text, colour, y in rows:
            screen.blit(font.render(text, True, colour), (left + 8, top + y))
        trips = list(self.round_trips)
        rtt = f"{trips[-1]:.1f} ms" if trips else "-"
        screen.blit(font.render(f"round trip {rtt}", True, RTT_COLOUR), (left + 8, top + 112))
        if len(trips) > 1:
            spark = pygame.Rect(left + 170, top + 114, width - 180, 16)
            draw_line_graph(screen, spark, trips, max(trips) or 1, RTT_COLOUR, 2)


def counting(method, graph, total, len_of):
    def counted(*args):
        result = method(*args)
        graph.totals[total] += len_of(result) if result else 0  # (nothing sent or read: 0)
        return result
    return counted


def nice_ceiling(value):
    for step in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000):
        if value <= step:
            return step
    return int(value) + 1


def draw_line_graph(screen, box, values, top, colour, thickness):
    if len(values) < 2:
        return
    step = box.width / (len(values) - 1)
    points = [(box.left + number * step, box.bottom - min(value / top, 1) * box.height)
              for number, value in enumerate(values)]
    pygame.draw.lines(screen, colour, False, points, thickness)


def short(value, text=None):
    text = repr(value) if text is None else text  # a message as it was sent, cut short if it is long
    return text if len(text) <= 80 else text[:77] + "..."


def one_line(error):
    text = " ".join(str(error).split())  # an exception, in one line
    return short(error, f"{type(error).__name__}: {text}" if text else type(error).__name__)


def where(error):
    """Where in game.py an error was raised, for the student who edits it."""
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if frame.filename == __file__]
    return f" on line {lines[-1]}" if lines else ""


def say(line):
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"  # a console may not show every character
    print(line.encode(encoding, "backslashreplace").decode(encoding), file=sys.stderr, flush=True)


def saved(game):
    """The game's attributes, lists, dicts and sets copied, to take back a message; not the
    mistakes it told of, which a message's handler does not change, and which only grow."""
    return {name: value if name == "told" else copied(value) for name, value in vars(game).items()}


def copied(value):
    if not isinstance(value, (list, dict, set)):
        return value
    try:
        return copy.deepcopy(value)
    except Exception:  # it holds what cannot be copied, a font say: copy the top of it
        return copy.copy(value)


def unusable(error, action, message):
    """(kind, in a few words) for an error a Network_<action> method raised."""
    if isinstance(error, KeyError) and error.args and isinstance(error.args[0], str) \
            and error.args[0] not in message:  # a field the message lacks
        return f"without {error.args[0]}", f"without {error.args[0]}"
    return type(error), f"that Network_{action} could not use ({one_line(error)})"


def is_number(value):
    return type(value) in (int, float) and abs(value) <= FARTHEST  # not True, nan or inf


def is_point(value):
    return isinstance(value, (list, tuple)) and len(value) == 2 and all(map(is_number, value))


def user_name():
    """The computer's user name, as a player's name when --name gives none."""
    try:
        name = getpass.getuser()
    except Exception:  # the system keeps none
        name = ""
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf")).strip()[:MOST_NAME]
    return name or "player"


def name_refused(name):
    """Why a player's name cannot be shown, or None: too long, or with a character that
    hides or turns text (Unicode's control and format characters: zero-width, bidi)."""
    if not name.strip() or len(name) > MOST_NAME:
        return f"is not 1 to {MOST_NAME} characters"
    odd = next((c for c in name if unicodedata.category(c) in ("Cc", "Cf")), None)
    return None if odd is None else f"holds {ascii(odd)}, which hides or turns text"


def notice_vanishing(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)  # probe a silent connection
    for option, value in VANISHING:
        if hasattr(socket, option):  # each OS has its own set
            try:
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
            except OSError:
                pass  # an older system: its own, slower timers stay


def draw_words(screen, font, text, colour, at):
    x, y = at  # wrap the words to fit the window
    line = ""
    for word in text.split():
        if line and font.size(f"{line} {word}")[0] > WIDTH - 2 * x:
            screen.blit(font.render(line, True, colour), (x, y))
            line, y = "", y + font.get_linesize()
        line = f"{line} {word}".strip()
    screen.blit(font.render(line, True, colour), (x, y))


def main():
    parser = argparse.ArgumentParser(description=f"The {STAGE} game.")
    parser.add_argument("--host", default=DEFAULT_HOST, help="server address (default %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="server port (default %(default)s)")
    parser.add_argument("--name", help="your name, as the server and the class view show it "
                                       "(default: this computer's user name)")
    args = parser.parse_args()
    if args.name is not None and name_refused(args.name):
        parser.exit(2, f"--name {ascii(args.name)} {name_refused(args.name)}: choose another.\n")
    try:
        pygame.display.init()  # only what we use: without the sound system, no audio
        pygame.font.init()     # errors on a machine that has no sound card
        screen = pygame.display.set_mode((WIDTH, HEIGHT))
    except pygame.error as error:
        print(f"Cannot open a window ({error}): run the game where there is a display.",
              file=sys.stderr)
        return 1
    pygame.display.set_caption(f"{STAGE} - {args.host}:{args.port}")
    try:
        game = ArmouredGame(args.host, args.port, args.name)
        play(game, screen)  # the lesson's frame loop, above "# Armour"
    except KeyboardInterrupt:
        return 0  # Ctrl+C in the terminal closes the game like the window's close button
    finally:
        pygame.quit()  # only once the loop is over: nothing may draw after this
    return game.exit_code


if __name__ == "__main__":
    sys.exit(main())

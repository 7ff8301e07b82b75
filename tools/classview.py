r"""The class view: a stage's own server, with a window for the projector that shows the class.

    python tools/classview.py [--stage N|FOLDER] [--delay MS] [--state PATH] [the server's options]
    py tools\classview.py --stage 4 --host 0.0.0.0          (Windows)

It IS the stage's server.py: it loads that file, unchanged, and runs its own
main(), so it prints the same log and the same "students:" lines, takes the same
options (--host, --port, --max-players, --per-address, ...) and keeps the same
limits. Before main() runs, the module's ArmouredChannel and ArmouredServer are
swapped for subclasses that count what each client sends and is sent, and what
the server drops. Its own lines start with "class view:".

Serving never waits on the window. The server stays in this process's main
thread (its Ctrl+C and `kill` handlers work only there); the window is a second
process, this file run with --window, fed over a loopback socket. Several times
a second the server offers it a small snapshot, without ever waiting: if the
window is behind (on Windows, dragging a window stops its loop), the snapshot
is dropped; if the window closes, the server says so in one line and serves on.

The window shows every connected student (address; waiting, or in game G as
player P), their messages and bytes a second, in and out, and the messages the
server dropped, in red beside the student who sent them; in orange, the seats
(players waiting or in a game) an address holds, when more than one; from stage 3 on, every
game's arena with both players where the server has them. Keys 0, 1 and 2 hold
everything the server sends for 0, 100 or 200 ms (--delay MS at the start).

The feed takes only the window this process started. Any program on the machine
can find the feed's loopback port and connect to it, so the window proves itself
first: it sends a secret it had on its stdin, which no other program can read
(not on its command line, which `ps` shows, nor in its environment). A connection
that does not send the secret within FEED_SECONDS is closed, and the real window
may still connect after it. The server takes only the delays the window offers.

--state PATH: the window writes what it shows to PATH as JSON, a few times a
second (for the tests). A file PATH.picture naming a .png asks it to save that
picture of itself, and what it shows then to PATH.picture.json (make screenshots).
A file PATH.ask holding a JSON object makes the window send it to the server as
if from its keys (the tests' way to press a key; nothing else reads it).
"""
import argparse
import hmac
import itertools
import json
import os
import secrets
import socket
import struct
import subprocess
import sys
import time
import weakref
from collections import Counter, deque
from pathlib import Path

from stages import STAGES, load, stage_folder, stage_number  # {4: "stage4_relay", ...}, a stage's file

SNAPSHOTS_PER_SECOND = 15  # what the server offers the window: enough for the dots to move smoothly
DELAY_KEYS = {"0": 0, "1": 100, "2": 200}  # window key: ms that everything the server sends is held
MOST_STUDENTS = 200        # a snapshot lists at most these (a class is 20 to 40); the totals count all
TERMINATOR_BYTES = 5       # PodSixNet's \0---\0, not part of the message the channel holds
HEADER = struct.Struct("!I")  # each snapshot on the feed: its length, then its JSON
FEED_BUFFER = 1 << 14      # bytes the feed's socket buffers hold each end: a window that is behind
#                            gets a few snapshots queued, not seconds of them, and catches up at once
FEED_SECONDS = 3           # a connection to the feed must send the window's secret within this
FEED_CALLERS = 8           # connections to the feed that have not yet sent it, kept at once


def say(line, file=sys.stdout):
    print(f"class view: {line}", file=file, flush=True)


# The server side: the stage's server.py, hooked

def load_server(folder):
    """The stage's server.py as a module: its own classes and main(), unchanged."""
    return load(folder, "server")


class Feed:
    """The window process, and the socket that carries snapshots to it and keys back.
    Nothing here ever waits: a snapshot the window cannot take now is dropped."""

    def __init__(self, args, closed):
        self.args, self.closed = args, closed  # closed(): called once, when the window has gone
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(FEED_CALLERS)
        self.listener.setblocking(False)
        self.child = self.sock = None
        self.secret = secrets.token_hex(16).encode() + b"\n"  # the window's first line on the feed
        self.callers = []  # [socket, what it has sent, when it must have sent the secret]: not yet the window
        self.pending, self.commands = b"", b""
        self.open = True  # until the window closes

    def start(self, title):
        options = ["--state", self.args.state] if self.args.state else []
        self.child = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--window", "--title", title,
                                       "--feed", str(self.listener.getsockname()[1]), *options],
                                      stdin=subprocess.PIPE)
        try:
            self.child.stdin.write(self.secret)  # a few bytes: the pipe takes them without waiting
            self.child.stdin.close()
        except OSError:
            pass  # the window has gone already: connected() notices

    def connected(self):
        if self.sock is None and self.open:
            self.answer_callers()
            if self.sock is None:
                if self.child.poll() is not None:
                    self.close()
                return False
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, FEED_BUFFER)
            self.listener.close()
            for caller in self.callers:
                caller[0].close()
            self.callers = []
        return self.sock is not None

    def answer_callers(self):
        """Take the connections waiting, and read what each has sent: the one that sends
        the secret is the window; one that sends anything else, or nothing in time, is closed."""
        now = time.monotonic()
        while len(self.callers) < FEED_CALLERS:
            try:
                sock, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break  # out of files for a moment: the next tick tries again
            sock.setblocking(False)
            self.callers.append([sock, b"", now + FEED_SECONDS])
        for caller in list(self.callers):
            sock, heard, by = caller
            try:
                data = sock.recv(len(self.secret) - len(heard))
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                data = b""
            if data:
                caller[1] = heard = heard + data
            if len(heard) == len(self.secret) and hmac.compare_digest(heard, self.secret):
                self.callers.remove(caller)
                self.sock = sock
                return
            if data == b"" or len(heard) == len(self.secret) or b"\n" in heard or now > by:
                self.callers.remove(caller)  # not our window
                sock.close()

    def offer(self, data):
        if self.pending:
            self.flush()
        if not self.pending and self.open:  # else the window is behind: this one is dropped
            self.pending = HEADER.pack(len(data)) + data
            self.flush()

    def flush(self):
        try:
            self.pending = self.pending[self.sock.send(self.pending):]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.close()

    def keys(self):
        """What the window has asked for since last time: a list of dicts."""
        try:
            data = self.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            data = b""
        if not data:
            self.close()
            return []
        *lines, self.commands = (self.commands + data).split(b"\n")
        asked = []
        for line in lines:
            try:
                asked.append(dict(json.loads(line)))
            except (ValueError, TypeError):
                pass  # not from our window: nothing to do
        return asked

    def close(self):
        if self.open:
            self.open = False
            self.closed()
        for sock in (self.sock, self.listener, *(caller[0] for caller in self.callers)):
            if sock is not None:
                sock.close()
        self.sock, self.pending, self.callers = None, b"", []

    def stop(self):
        self.open = False
        if self.sock is not None:
            self.sock.close()  # the window sees the server stop, and closes itself
        elif self.child is not None:
            self.child.terminate()  # still starting
        self.listener.close()
        for caller in self.callers:
            caller[0].close()
        if self.child is not None:
            try:
                self.child.wait(5)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait()


class View:
    """What the hooks below count, the delay switch, and the snapshots for the window."""

    def __init__(self, module, stage, args):
        self.module, self.stage, self.feed = module, stage, Feed(args, self.window_closed)
        self.delay = args.delay / 1000
        self.offered = {*DELAY_KEYS.values(), args.delay}  # the delays the window may ask for, in ms
        self.refused_delay = False  # said once that the window asked for another: never again
        self.holding = set()    # channels that hold messages back (the delay switch)
        self.next_snapshot = 0.0
        self.gone = [0, 0, 0, 0, 0]  # what students who have left sent, were sent and had dropped
        self.refused = 0
        self.join = []          # the students: lines
        self.numbers = weakref.WeakKeyDictionary()  # stage 2's games have no ID: the view numbers them
        self.next_number = itertools.count()
        self.listening = None

    def window_closed(self):
        # The switch is in the window: with the window gone, nothing more is held.
        self.module.console.about = None
        say("the window has closed; the server serves on" + ", with no delay" * bool(self.delay) +
            " (Ctrl+C stops it)")
        self.delay = 0

    def set_delay(self, ms):
        if type(ms) is not int or ms not in self.offered:
            if not self.refused_delay:
                self.refused_delay = True
                self.module.console.about = None
                say(f"the window asked for a delay of {str(ms)[:20]} ms, which it does not offer "
                    f"({', '.join(map(str, sorted(self.offered)))}): ignored, and any more not shown")
            return
        if ms != round(self.delay * 1000):
            self.delay = ms / 1000
            self.module.console.about = None
            say(f"everything the server sends is now held {ms} ms" if ms else
                "the server sends everything at once again (no delay)")

    def wait(self):
        """How long the server's loop may wait before the view has something to do."""
        now, due = time.monotonic(), []
        if self.feed.open:
            due.append(self.next_snapshot)
        due += [channel.held[0][0] for channel in self.holding if channel.held]
        return max(0.0, min(due) - now) if due else 1.0

    def tick(self, server):
        now = time.monotonic()
        if now < self.next_snapshot or not self.feed.open:
            return
        self.next_snapshot = now + 1 / SNAPSHOTS_PER_SECOND
        if self.feed.child is None:
            self.listening = "%s:%d" % server.socket.getsockname()[:2]
            self.feed.start(f"class view: {self.module.STAGE} on {self.listening}")
            held = f"; everything the server sends is held {round(self.delay * 1000)} ms" if self.delay else ""
            self.module.console.about = None
            say(f"a window shows the class{held} (keys 0, 1, 2 there: hold it 0, 100, 200 ms); "
                "closing the window leaves the server serving")
        if not self.feed.connected():
            return
        for command in self.feed.keys():
            if "delay" in command:
                self.set_delay(command["delay"])
        if self.feed.open:
            self.feed.offer(json.dumps(self.snapshot(server, now), separators=(",", ":")).encode())

    def game_number(self, game):
        number = getattr(game, "id", None)
        if number is None:
            if game not in self.numbers:
                self.numbers[game] = next(self.next_number)
            number = self.numbers[game]
        return number

    def snapshot(self, server, now):
        waiting = getattr(server, "waiting_game", None)
        games = getattr(server, "games", [])
        students, totals = [], list(self.gone)
        seats = Counter(channel.addr[0] for channel in server.channels  # waiting, or in a game
                        if getattr(channel, "game", None) is not None)
        for channel in server.channels:
            counts = channel.view_counts + [channel.dropped]
            totals = [a + b for a, b in zip(totals, counts)]
            if len(students) >= MOST_STUDENTS:
                continue
            game, player = getattr(channel, "game", None), None
            if game is None:
                doing = "connected"
            elif game is waiting:
                doing = "waiting"
            else:
                doing, player = "playing", game.channels.index(channel)
            students.append({"name": getattr(channel, "name", None), "address": "%s:%d" % channel.addr[:2],
                             "doing": doing, "player": player,
                             "game": None if game is None or game is waiting else self.game_number(game),
                             "in": counts[0], "in_bytes": counts[1], "out": counts[2], "out_bytes": counts[3],
                             "dropped": counts[4], "slowed": not getattr(channel.share, "reading", True),
                             "seats": seats[channel.addr[0]]})
        return {"time": now, "stage": self.module.STAGE, "stage_number": self.stage, "listening": self.listening,
                "join": self.join, "delay_ms": round(self.delay * 1000),
                "arena": list(getattr(self.module, "ARENA", ())),
                "students": students,
                # An address that holds more than one seat can keep newcomers waiting for players who
                # never play (issue 31): --per-address 1 or 2 keeps it to that many.
                "crowded": {host: count for host, count in seats.items() if count > 1},
                "games": [{"id": self.game_number(game), "players": [c.address for c in game.channels],
                           "positions": getattr(game, "positions", None)} for game in games],
                "waiting": waiting.channels[0].address if waiting is not None and waiting.channels else None,
                "totals": {"connected": len(server.channels), "games": len(games), "waiting": int(waiting is not None),
                           "in": totals[0], "in_bytes": totals[1], "out": totals[2], "out_bytes": totals[3],
                           "dropped": totals[4], "refused": self.refused}}


def hook(module, view):
    """Rebind the module's ArmouredChannel and ArmouredServer to subclasses that tell the view."""
    Channel, Server = module.ArmouredChannel, module.ArmouredServer

    class ViewChannel(Channel):
        def __init__(self, *args, **kwargs):
            self.view_counts = [0, 0, 0, 0]  # messages and bytes in, messages and bytes out
            self.dropped = 0
            self.held = deque()  # (when to send, the bytes): the delay switch
            Channel.__init__(self, *args, **kwargs)

        def found_terminator(self):  # a whole message has arrived
            self.view_counts[0] += 1
            self.view_counts[1] += len(self._ibuffer) + TERMINATOR_BYTES
            Channel.found_terminator(self)

        def Send(self, data):
            size = Channel.Send(self, data)  # PodSixNet queues the bytes
            self.view_counts[2] += 1
            self.view_counts[3] += size
            if view.delay or self.held:  # in order: behind what is held already
                self.held.append((time.monotonic() + view.delay, self.sendqueue.pop()))
                view.holding.add(self)
            return size

        def Pump(self):  # the server's loop hands each channel's queue to its socket here
            if self.held:
                now = time.monotonic()
                while self.held and self.held[0][0] <= now:
                    self.sendqueue.append(self.held.popleft()[1])
                if not self.held:
                    view.holding.discard(self)
            Channel.Pump(self)
            if self.held:  # the loop turns only to channels with messages queued: this one's are held
                self._server.sending[self] = None

        def drop(self, message, reason):
            self.dropped += 1
            Channel.drop(self, message, reason)

    class ViewServer(Server):
        channelClass = ViewChannel

        def Pump(self):
            Server.Pump(self)
            view.tick(self)

        def wait(self, seconds):  # the loop's one wait ends in time for the view: a snapshot due, or a held message
            return Server.wait(self, min(seconds, view.wait()))

        def refusal(self, share):
            why = Server.refusal(self, share)
            view.refused += bool(why)
            return why

        def player_left(self, channel):
            if channel in self.channels:
                view.gone = [a + b for a, b in zip(view.gone, channel.view_counts + [channel.dropped])]
                view.holding.discard(channel)
            Server.player_left(self, channel)

    log = module.log

    def logged(line, file=sys.stdout):
        if line.startswith("students: "):
            view.join.append(line[len("students: "):])
        log(line, file)

    module.ArmouredChannel, module.ArmouredServer, module.log = ViewChannel, ViewServer, logged


def serve(args, server_args):
    module = load_server(stage_folder(args.stage))  # a stage, or a copy of one (a student's tag, say)
    view = View(module, stage_number(module), args)
    hook(module, view)
    sys.argv = [f"classview.py --stage {args.stage}", *server_args]  # main()'s usage and errors name us
    try:
        return module.main()
    finally:
        view.feed.stop()


# The window side: a separate process, fed snapshots

BACKGROUND, TEXT, DIM, ALERT = (24, 26, 34), (235, 235, 235), (150, 156, 170), (255, 110, 95)
PLAYER_COLOURS = ((90, 170, 255), (255, 175, 70))  # as every game.py draws its players
BUSY, WARN = (255, 200, 80), (255, 150, 60)
SIZE = (1280, 720)
FPS = 30
STATE_SECONDS = 0.25
SMALL = 0.7  # the size of an address beside a name, to the name's
BUSY_PER_SECOND = 75  # more messages a second than a game's 60 frames send: flooding, or a cheat


def kilo(value):
    return f"{value:.0f}" if value < 1000 else f"{value / 1000:.1f}k" if value < 100_000 else f"{value / 1000:.0f}k"


class Rates:
    """Messages and bytes a second, from the snapshots of the last second (by the server's clock)."""

    def __init__(self):
        self.history = deque()  # (time, {address: counts}, totals)

    def add(self, snapshot):
        counts = {s["address"]: (s["in"], s["out"], s["in_bytes"], s["out_bytes"]) for s in snapshot["students"]}
        totals = tuple(snapshot["totals"][k] for k in ("in", "out", "in_bytes", "out_bytes"))
        self.history.append((snapshot["time"], counts, totals))
        while len(self.history) > 2 and self.history[1][0] <= snapshot["time"] - 1.0:
            self.history.popleft()
        then, old, old_totals = self.history[0]
        seconds = snapshot["time"] - then
        names = ("in_per_s", "out_per_s", "in_bytes_per_s", "out_bytes_per_s")

        def per_second(now, before):
            return {name: (a - b) / seconds if seconds > 0 else 0.0 for name, a, b in zip(names, now, before)}

        for student in snapshot["students"]:
            now = counts[student["address"]]
            student.update(per_second(now, old.get(student["address"], (0, 0, 0, 0))))
        snapshot["totals"].update(per_second(totals, old_totals))


class Window:
    """The projector's window: the latest snapshot, drawn when a new one comes; keys 0, 1, 2."""

    def __init__(self, args, secret):
        import pygame
        self.pygame, self.args = pygame, args
        pygame.display.init()
        pygame.font.init()
        pygame.display.set_caption(args.title)
        self.screen = pygame.display.set_mode(SIZE, pygame.RESIZABLE)
        self.fonts, self.drawn = {}, {}  # fonts by size, written words by (words, size, colour)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, FEED_BUFFER)
        self.sock.connect(("127.0.0.1", args.feed))
        self.sock.sendall(secret)  # first: the server takes no other window
        self.sock.setblocking(False)
        self.buffer, self.snapshot, self.rates = b"", None, Rates()
        self.frames, self.panels, self.state_at = 0, 0, 0.0

    def font(self, size):
        size = max(12, int(size))
        if size not in self.fonts:
            self.fonts[size] = self.pygame.font.Font(None, size)
        return self.fonts[size]

    def receive(self):
        """Read all that has arrived; keep the latest snapshot. None once the server has gone,
        else whether a new snapshot came."""
        while True:
            try:
                data = self.sock.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                return None
            if not data:
                return None
            self.buffer += data
        new = False
        while len(self.buffer) >= HEADER.size:
            length = HEADER.unpack_from(self.buffer)[0]
            if len(self.buffer) < HEADER.size + length:
                break
            snapshot = json.loads(self.buffer[HEADER.size:HEADER.size + length])
            self.buffer = self.buffer[HEADER.size + length:]
            self.rates.add(snapshot)
            self.snapshot, new = snapshot, True
        return new

    def ask(self, **command):
        try:
            self.sock.send(json.dumps(command).encode() + b"\n")
        except OSError:
            pass  # the server has gone: the next receive() says so

    def run(self):
        pygame = self.pygame
        clock = pygame.time.Clock()
        stale = True  # drawn only when there is something new to show: the window costs the machine less
        while True:
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    return 0
                if event.type == pygame.KEYDOWN and event.unicode in DELAY_KEYS:
                    self.ask(delay=DELAY_KEYS[event.unicode])
                stale = stale or event.type in (pygame.VIDEORESIZE, pygame.VIDEOEXPOSE, pygame.WINDOWEXPOSED)
            new = self.receive()
            if new is None and self.snapshot is None:  # closed before it showed anything
                say("no window: the server did not take it (only the class view starts its window)", sys.stderr)
                return 1
            if new is None:
                return 0  # the server has stopped
            if new or stale:
                self.draw()
                pygame.display.flip()
                self.frames, stale = self.frames + 1, False
            if self.args.state and self.snapshot and time.monotonic() >= self.state_at:
                self.state_at = time.monotonic() + STATE_SECONDS
                self.write_state()
            clock.tick(FPS)

    def write_state(self):
        command = Path(self.args.state + ".ask")
        if command.exists():  # a test presses a key
            self.ask(**json.loads(command.read_text(encoding="utf-8")))
            command.unlink()
        asked = Path(self.args.state + ".picture")
        picture = asked.exists() and asked.read_text(encoding="utf-8").strip()
        if picture:
            self.pygame.image.save(self.screen, picture)
        state = dict(self.snapshot, window={"pid": os.getpid(), "frames": self.frames, "panels": self.panels,
                                            "size": list(self.screen.get_size()), "picture": picture or None})
        if picture:  # what the picture shows, kept beside the state
            self.write(state, self.args.state + ".picture.json")
            asked.unlink()
        self.write(state, self.args.state)

    @staticmethod
    def write(state, path):
        temporary = path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(state, file)
        os.replace(temporary, path)  # whole, for whoever reads it

    def text(self, words, at, size, colour=TEXT, right=False):
        key = (str(words), int(size), colour)
        image = self.drawn.get(key)
        if image is None:  # most of what is written stays the same from one frame to the next
            if len(self.drawn) > 5000:
                self.drawn.clear()
            image = self.drawn[key] = self.font(size).render(key[0], True, colour)
        self.screen.blit(image, image.get_rect(topright=at) if right else at)
        return image.get_width()

    def draw(self):
        self.screen.fill(BACKGROUND)
        width, height = self.screen.get_size()
        margin = max(8, width // 80)
        snap = self.snapshot
        if snap is None:
            self.text("waiting for the server ...", (margin, margin), 40, DIM)
            return
        big = max(28, min(48, width // 30))
        self.text(f"{snap['stage']}   class view", (margin, margin), big)
        delay = snap["delay_ms"]
        self.text(f"delay {delay} ms  (keys 0 1 2)", (width - margin, margin + 4), big * 0.8,
                  WARN if delay else DIM, right=True)
        y = margin + big * 0.8
        line = big * 0.7
        join = snap["join"][0] if snap["join"] else None
        words = f"join: {join}" if join else "only this machine can join: start with --host 0.0.0.0"
        size = line
        while size > 14 and self.font(size).size(words)[0] > width - 2 * margin:
            size -= 1  # the whole line, however long, on one line
        self.text(words, (margin, y), size, DIM)
        y += line * 0.8
        t = snap["totals"]
        totals = f"{t['connected']} connected"
        if snap["stage_number"] >= 2:
            totals += f"   {t['waiting']} waiting   {t['games']} games"
        totals += (f"   in {t['in_per_s']:.0f} msg/s {kilo(t['in_bytes_per_s'])}B/s"
                   f"   out {t['out_per_s']:.0f} msg/s {kilo(t['out_bytes_per_s'])}B/s")
        x = margin + self.text(totals, (margin, y), line)
        alarms = [f"{name} {t[name]}" for name in ("dropped", "refused") if t[name]]
        if alarms:
            self.text("   " + "   ".join(alarms), (x, y), line, ALERT)
        top = int(y + line * 0.9)
        arenas = snap["stage_number"] >= 3
        split = width if snap["stage_number"] == 1 else int(width * (0.62 if arenas else 0.66))
        self.students((margin, top, split - 2 * margin, height - top - margin), snap)
        if snap["stage_number"] >= 2:
            box = (split, top, width - split - margin, height - top - margin)
            self.arenas(box, snap) if arenas else self.game_list(box, snap)

    def students(self, box, snap):
        """One row a student; the font shrinks until every row and every column fits."""
        left, top, width, height = box
        students = snap["students"]
        more = snap["totals"]["connected"] - len(students)
        rows = []
        for student in students:
            doing, colour = student["doing"], TEXT
            if doing == "playing":
                colour = PLAYER_COLOURS[student["player"] % 2]
                doing = f"game {student['game']}, player {student['player']}"
            busy = ALERT if student["slowed"] else BUSY if student["in_per_s"] > BUSY_PER_SECOND else TEXT
            name = student.get("name")  # the name a game gave, and its address smaller beside it
            rows.append([(name or student["address"], TEXT, student["address"] if name else None),
                         (doing, colour), (f"{student['in_per_s']:.0f}", busy),
                         (f"{student['out_per_s']:.0f}", TEXT), (kilo(student["in_bytes_per_s"]), TEXT),
                         (kilo(student["out_bytes_per_s"]), TEXT),
                         (student["dropped"] or "", ALERT),
                         (student["seats"] if student["seats"] > 1 else "", WARN)])
        titles = ["student", "doing", "in/s", "out/s", "in B/s", "out B/s", "drops", "seats"]
        fit = max(1, int(height // self.font(14).get_linesize()) - 2)  # rows at the smallest size
        if len(rows) > fit:
            more, rows = more + len(rows) - fit, rows[:fit]
        lines = len(rows) + 1 + bool(more)
        size = 40
        while True:
            font = self.font(size)
            small = self.font(size * SMALL)

            def cell_width(words, colour, *beside):
                return font.size(str(words))[0] + (small.size(f"  {beside[0]}")[0] if beside and beside[0] else 0)
            widths = [max([font.size(title)[0]] + [cell_width(*row[n]) for row in rows])
                      for n, title in enumerate(titles)]
            gap = font.size("00")[0]
            if size <= 14 or (font.get_linesize() * lines <= height and sum(widths) + gap * 7 <= width):
                break
            size -= 1
        xs, x = [], left
        for column_width in widths:
            xs.append(x)
            x += column_width + gap
        step = font.get_linesize()
        for title, x in zip(titles, xs):
            self.text(title, (x, top), size, DIM)
        y = top + step
        for row in rows:
            for (words, colour, *beside), x in zip(row, xs):
                shown = self.text(words, (x, y), size, colour)
                if beside and beside[0]:
                    self.text(f"  {beside[0]}", (x + shown, y + size * (1 - SMALL) * 0.6), size * SMALL, DIM)
            y += step
        if more:
            self.text(f"... and {more} more", (left, y), size, DIM)

    def game_list(self, box, snap):  # stage 2: games, but no positions yet
        left, top, width, height = box
        size = max(16, min(36, height / max(len(snap["games"]) + 2, 8) * 1.3))
        step = self.font(size).get_linesize()
        y = top
        if snap["waiting"]:
            self.text(f"waiting: {snap['waiting']}", (left, y), size, DIM)
            y += step
        for game in snap["games"]:
            self.text(f"game {game['id']}: " + " vs ".join(game["players"]), (left, y), size)
            y += step

    def arenas(self, box, snap):
        """Every game's arena, in a grid that shrinks to fit them all."""
        left, top, width, height = box
        games = snap["games"]
        self.panels = len(games)
        if not games:
            self.text("no games yet", (left, top), 32, DIM)
            return
        arena_w, arena_h = snap["arena"]
        label = 0.12  # of a panel's height, for its name
        best = None
        for columns in range(1, len(games) + 1):
            rows = -(-len(games) // columns)
            cell_w, cell_h = width / columns, height / rows
            scale = min((cell_w - 8) / (arena_w + 40), (cell_h - 8) * (1 - label) / (arena_h + 40))
            if best is None or scale > best[0]:
                best = (scale, columns, cell_w, cell_h)
        scale, columns = best[:2]
        cell_w, cell_h = (arena_w + 40) * scale + 8, (arena_h + 40) * scale / (1 - label) + 8  # packed, from the top
        radius = max(3, round(20 * scale))
        for index, game in enumerate(games):
            x0 = left + (index % columns) * cell_w
            y0 = top + (index // columns) * cell_h
            name = max(16, min(36, cell_h * label * 1.5))
            self.text(f"game {game['id']}", (x0 + 4, y0), name, DIM)
            ox, oy = x0 + 4 + 20 * scale, y0 + cell_h * label + 20 * scale
            self.pygame.draw.rect(self.screen, DIM, (ox - 20 * scale, oy - 20 * scale, (arena_w + 40) * scale,
                                                     (arena_h + 40) * scale), 2)
            for number, (x, y) in enumerate(game["positions"] or []):
                if number < len(game["players"]):
                    self.pygame.draw.circle(self.screen, PLAYER_COLOURS[number % 2],
                                            (round(ox + x * scale), round(oy + y * scale)), radius)


def window(args):
    os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"  # the server's log is the teacher's: no banner in it
    # The class view hands the secret over on stdin, and only there. Without it (a window
    # started by hand), an empty line: the server closes that at once.
    secret = (sys.stdin.buffer.readline() if sys.stdin and not sys.stdin.isatty() else b"") or b"\n"
    try:
        shown = Window(args, secret)
    except Exception as error:  # no display, no pygame: say it, and the server serves on
        say(f"no window ({error})", sys.stderr)
        return 1
    try:
        return shown.run()
    except KeyboardInterrupt:  # Ctrl+C in the terminal reaches this process too
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], add_help=False,
                                     usage="%(prog)s [--stage N|FOLDER] [--delay MS] [--state PATH] [server.py's options]")
    parser.add_argument("--stage", default=str(max(STAGES)), metavar="N|FOLDER",
                        help="the stage whose server.py serves (default %(default)s), or a folder with a "
                             "server.py and a game.py (a copy of a stage)")
    parser.add_argument("--delay", type=int, default=0, metavar="MS",
                        help="hold everything the server sends this many ms (keys 0, 1, 2: 0, 100, 200)")
    parser.add_argument("--state", metavar="PATH", help="the window writes what it shows here, as JSON")
    parser.add_argument("--window", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--feed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--title", default="class view", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.window:
        return window(args)
    if {"-h", "--help"} & set(rest):
        parser.print_help()
        print("\nand the stage's server.py options:\n")
    if not 0 <= args.delay <= 1000:
        parser.exit(2, f"--delay {args.delay}: give 0 to 1000 ms.\n")
    if stage_folder(args.stage) is None:
        parser.exit(2, f"--stage {args.stage}: give a stage from {min(STAGES)} to {max(STAGES)}, or a folder "
                       f"with a server.py and a game.py.\n")
    return serve(args, rest)


if __name__ == "__main__":
    sys.exit(main())

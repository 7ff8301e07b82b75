"""Stage 5 of 5, optimized: only the player who did not move hears of a move.

What this stage changes in stage 4:
  * After a move, the server sends {"action": "position", "player": P, "x": .., "y": ..}
    to the opponent only. The mover has already moved itself, by the same
    rule (moved(), the same lines in game.py), so it needs no reply: one
    message per move instead of two.
  * The server still checks and applies every move exactly as in stage 4, so
    it still decides where everyone is. A client that breaks the rule in its
    own game.py (a longer step, no walls) moves further only on its own
    screen. A client that sends more moves than one a frame really does move
    faster, on every screen, as in stage 4.

The lesson ends at the line "# Armour". Below it: what keeps one client from
hurting the others, and the command line, the same in every stage. Its
ArmouredChannel and ArmouredServer are this lesson's classes with that added,
and they are what main() runs.

Run it from the repo root, and stop it with Ctrl+C:
    python stage5_optimized/server.py [--host HOST] [--port PORT]
"""
import itertools
import sys
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # why: see "# Armour" below
    from PodSixNet.Channel import Channel
    from PodSixNet.Server import Server

STAGE = "stage 5: optimized"
ARENA = (560, 340)          # the width and height that players' positions stay within
START_POSITIONS = ((140, 170), (420, 170))  # player 0 on the left, player 1 on the right
SPEED = 4                   # the longest step, in each direction, that one move may take


class Game:
    """One match: channels[0] waited in the queue, channels[1] joined."""

    def __init__(self, game_id, first_channel):
        self.id = game_id
        self.channels = [first_channel]
        self.positions = [list(start) for start in START_POSITIONS]  # the server's truth

    def move(self, number, dx, dy):
        self.positions[number] = moved(self.positions[number], dx, dy, SPEED, ARENA)


class PlayerChannel(Channel):
    """The server's end of one client's connection."""

    def __init__(self, *args, **kwargs):
        Channel.__init__(self, *args, **kwargs)
        host, port = self.addr[:2]  # PodSixNet gives each channel its client's address
        self.address = f"{host}:{port}"  # for the log, e.g. 127.0.0.1:52311
        self.game = None  # the Game this player waits in or plays

    def Network_echo(self, message):
        text = message.get("text")
        if not isinstance(text, str):
            return self.drop(message, "an echo needs a text string")
        self.Send({"action": "echo", "text": text})  # back to this client only

    def Network_move(self, message):
        game = self.game
        number = game.channels.index(self) if game and len(game.channels) == 2 else None
        # Trust nothing a client says: the move must name this connection's own
        # started game and its own player number, or it changes nothing.
        if number is None or message.get("gameID") != game.id or message.get("player") != number:
            return self.drop(message, "not this player's game and player number")
        dx, dy = message.get("dx"), message.get("dy")
        if type(dx) is not int or type(dy) is not int:
            return self.drop(message, "dx and dy must be whole numbers")
        game.move(number, dx, dy)
        # Only the opponent hears of it: half of stage 4's messages. The mover has
        # moved itself by the same rule. The server still owns the positions and
        # has just checked this move, so the opponent sees what the rule allows.
        x, y = game.positions[number]
        opponent = game.channels[1 - number]
        opponent.Send({"action": "position", "player": number, "x": x, "y": y})

    def drop(self, message, reason):
        log(f"{self.address} sent {message}: {reason}; dropped")  # the client stays connected

    def Close(self):
        # PodSixNet calls this when the client hangs up. It gives each channel
        # its server as self._server.
        self._server.player_left(self)


class GameServer(Server):
    channelClass = PlayerChannel  # PodSixNet makes one of these per client

    def __init__(self, *args, **kwargs):
        Server.__init__(self, *args, **kwargs)
        self.waiting_game = None  # the queue: a game whose one player awaits another
        self.games = []           # the games that have started
        self.game_ids = itertools.count()  # 0, 1, 2, ...: no two games share an ID

    def Connected(self, channel, addr):
        # Called for each new client, once a greeting, {"action": "connected"}, is queued:
        # by PodSixNet's Server at once, or by ArmouredServer (below "# Armour") once the
        # client's hello has come, and its machine's share, stage and name are checked.
        self.enqueue(channel)
        log(f"{channel.address} joined ({self.summary()})")

    def enqueue(self, newcomer):
        if self.waiting_game is None:
            self.waiting_game = newcomer.game = Game(next(self.game_ids), newcomer)
            newcomer.Send({"action": "waiting"})
            return
        game, self.waiting_game = self.waiting_game, None
        game.channels.append(newcomer)
        newcomer.game = game
        self.games.append(game)
        for number, channel in enumerate(game.channels):
            channel.Send({"action": "startgame", "gameID": game.id, "player": number,
                          "positions": game.positions, "arena": list(ARENA), "speed": SPEED})
        log(f"game {game.id} started: {game.channels[0].address} vs {game.channels[1].address}")

    def player_left(self, channel):
        if channel not in self.channels:
            return  # already gone: Close() and Error() (below "# Armour") may both say so
        self.channels.remove(channel)  # PodSixNet keeps every channel here, and never removes one
        game, channel.game = channel.game, None
        if game is self.waiting_game:
            self.waiting_game = None  # so nobody is ever paired with a player who has gone
        elif game is not None:
            self.games.remove(game)
            for opponent in game.channels:
                if opponent is not channel:
                    opponent.Send({"action": "opponentleft"})
                    self.enqueue(opponent)  # back in the queue, for the next newcomer
        log(f"{channel.address} left ({self.summary()})")

    def summary(self):
        waiting = 0 if self.waiting_game is None else 1
        return f"connected {len(self.channels)}, waiting {waiting}, games {len(self.games)}"

    def serve_forever(self):
        while True:
            # Send every channel's queued messages, then read what has arrived and run
            # its Network_<action> method (below "# Armour", the line "handler(message)").
            # This Pump() is ArmouredServer's: PodSixNet's own never waits, and would keep a core busy.
            self.Pump()


def moved(position, dx, dy, speed, arena):
    """Where a move takes a player: a step of at most `speed` each way, inside the arena."""
    x, y = position
    x += clamp(dx, -speed, speed)  # no step longer than the speed: no teleporting
    y += clamp(dy, -speed, speed)
    return [clamp(x, 0, arena[0]), clamp(y, 0, arena[1])]


def clamp(value, low, high):
    return max(low, min(high, value))


def log(line, file=sys.stdout):
    # Below "# Armour", lines about a client go through a gate first: past a few
    # in 10 s about one machine, they are counted instead (Console).
    print(line, file=file, flush=True)  # flush: show it now, even through a pipe


# Armour: below this line is what keeps one client from hurting the others (the
# limits, bad bytes, a client that stops reading or vanishes, one machine that
# takes more than its share), then the command line. These lines are the same in
# every stage; docs/engineering.md, "How it holds up", tries each.
import argparse
import errno
import itertools
import os
import select
import signal
import socket
import time
import traceback
import unicodedata
from collections import defaultdict

# PodSixNet 0.11 is built on asyncore and asynchat, which Python deprecates
# (3.12 removed them; requirements.txt installs a copy there). The imports at the
# top hide that warning: it is meant for PodSixNet's authors, not for a student.
from PodSixNet.asyncwrapper import asyncore  # the event loop under PodSixNet
from PodSixNet import rencode                # how PodSixNet turns bytes into messages

STAGE_NUMBER = int(STAGE.split(":")[0].split()[-1])  # "stage 4: relay" -> 4
DEFAULT_HOST = "127.0.0.1"  # this machine only; --host 0.0.0.0 serves a classroom LAN
DEFAULT_PORT = 31425        # PodSixNet's client default, so game.py needs no flags
BACKLOG = 128               # connections the OS holds for us: a class joins in a burst
MAX_PLAYERS = 1000          # at most (--max-players), and never more than the system's file limit allows:
FILE_MARGIN = 24            # files kept for the listening socket, the console and Python's own
READ_BYTES = 4096           # the most read from one client per turn: none can hog the loop
MAX_MESSAGE_BYTES = 65536   # a message this long is junk (the game's are under 200 bytes)
MAX_VALUES = 256            # values in one message at most: a game's have under 32 (a move, 11)
MOST_NAME = 20              # characters in a player's name (game.py --name)
MAX_UNSENT_BYTES = 65536    # a client this far behind has stopped reading
SELECT_LIMIT = 512          # the sockets select() can watch on Windows, which has no poll()
# One machine's fair share. Each rule has its flag, and 0 turns it off.
PER_ADDRESS = 10            # connections at once from one address: a teacher's demo of several windows
NEW_PER_ADDRESS = 10        # new connections from one address: 10 at once, then 10 each 10 s (one a second)
LINES_PER_ADDRESS = 10      # log lines about one address, the same way; past that, a count once a second
REFILL_SECONDS = 10         # how long the two above take to come back in full
MESSAGE_SECONDS = 5         # a message must arrive whole within this; the first, from connecting
MESSAGES_PER_SECOND = 600   # read from one address at most: ten times a game's 60 moves a second,
BURST_SECONDS = 2           # and 2 s of that at once: 1200 messages, 20 s of a game's moves after a hiccup
WORK_VALUES, WORK_BYTES = 32, 4096  # a message costs 1 more of that for each 32 values and each 4 KiB it holds
ACCEPT_PAUSE_SECONDS = 1    # how long to stop taking newcomers when the system has no file for one
NAP_SECONDS = 0.001         # a server woken more often than this naps (ArmouredServer.wait())
# A laptop that sleeps, or walks out of Wi-Fi, vanishes without a word, and TCP
# alone notices only after many minutes. These socket options, where the OS has
# them, make it notice within about 11 s (docs/classroom-network.md).
# What the loop waits for on a socket: poll()'s names where it has them (select() on Windows
# has no such names, and uses these same numbers in the loop's own sets, Selecting below).
READ, URGENT, WRITE = getattr(select, "POLLIN", 1), getattr(select, "POLLPRI", 2), getattr(select, "POLLOUT", 4)
VANISHING = (("TCP_KEEPIDLE", 5),     # after 5 s of silence, ask the peer if it is there
             ("TCP_KEEPALIVE", 5),    # (the same, as macOS names it)
             ("TCP_KEEPINTVL", 2),    # ask again every 2 s,
             ("TCP_KEEPCNT", 3),      # and after 3 asks unanswered, it has gone
             ("TCP_USER_TIMEOUT", 10000))  # Linux: or after 10 s of sent data unanswered


class ArmouredChannel(PlayerChannel):
    """The lesson's PlayerChannel, made safe from what a client sends or fails to send."""
    ac_in_buffer_size = READ_BYTES  # asynchat's read size; 64 KiB unless we say

    def __init__(self, *args, **kwargs):
        PlayerChannel.__init__(self, *args, **kwargs)
        self.unlogged_drops, self.quiet_until = 0, 0.0  # see drop()
        self.share = self._server.shares[self.addr[0]]  # its machine's (FairShare, below)
        self.share.connections.add(self)
        self.whole_by = after(self._server.message_seconds)  # when its first message must be in
        self.has_spoken, self.name = False, None
        self.arrival = next(self._server.arrivals)  # the order players joined in: the loop sends in it
        notice_vanishing(self.socket)  # so that a vanished client is noticed
        self._server.watch(self)  # the loop waits for its messages from now on

    def readable(self):
        return self.share.reading  # the loop watches the socket only if so; while not, TCP makes the client wait

    def Send(self, data):
        # PodSixNet's Send() queues the message; the loop's next turn hands it to
        # the socket (Pump()), and turns only to the channels named here.
        self._server.sending[self] = None
        return PlayerChannel.Send(self, data)

    def Pump(self):
        # PodSixNet's hands each queued message to the socket with a send() of its
        # own; this hands them all in one: the same bytes, one call to the system.
        if self.sendqueue:
            self.push(b"".join(self.sendqueue))
            self.sendqueue = []

    def del_channel(self, map=None):
        # asyncore calls this as the channel closes: the loop stops watching its socket.
        self._server.unwatch(self)
        PlayerChannel.del_channel(self, map)

    def collect_incoming_data(self, data):
        # asynchat hands over each piece of a message until the end marker.
        # Hold no more than MAX_MESSAGE_BYTES: a client that never sends the
        # marker would otherwise fill the server's memory.
        if len(self._ibuffer) + len(data) > MAX_MESSAGE_BYTES:
            self._ibuffer = b""
            self.cut(f"sent {MAX_MESSAGE_BYTES} bytes and no end marker")
        elif self.connected:
            if self.whole_by is None:  # a new message starts: it too must be whole in time
                self.whole_by = after(self._server.message_seconds)
            self._ibuffer += data

    def found_terminator(self):
        # asynchat calls this when a whole message has arrived. PodSixNet's own
        # version raises on bytes that do not decode, which would look like a bug
        # in this file, and prints "OOB data" for a message that is not a dict.
        # This one cuts a client that sends bytes that do not decode, and drops
        # any other message it cannot use, each with one line, and serves on.
        raw, self._ibuffer, self.whole_by, first = self._ibuffer, b"", None, not self.has_spoken
        self.has_spoken = True
        if not self.connected:
            return  # closed earlier in this same read
        console.about = self.share
        try:
            message = loads(raw)  # (below)
        except Refused as refused:  # it decodes, but is not a message to use
            message = refused
        except Exception:
            return self.cut("sent bytes that do not decode")
        # Each message costs its machine's budget by the work it took: 1 for a game's.
        self._server.spend(self.share, 1 + loads.values // WORK_VALUES + len(raw) // WORK_BYTES)
        if first:
            self.introduce(message if isinstance(message, dict) else {})
        if isinstance(message, Refused):
            return self.drop(raw, str(message))
        action = message.get("action") if isinstance(message, dict) else None
        handler = getattr(self, "Network_" + action, None) if isinstance(action, str) else None
        if handler is None:
            return self.drop(message, "no such action")
        handler(message)  # the channel's Network_<action>: an "echo" runs Network_echo here
        if hasattr(self, "Network"):
            self.Network(message)  # after Network_<action>, as PodSixNet does

    def introduce(self, hello):
        # A game's hello, its first echo, says which stage it is and its player's name
        # ({"action": "echo", "text": "echo 1", "stage": 4, "name": "Alice"}, added below
        # "# Armour" in game.py), and kit.py check's says "check": true. A client that says
        # none of it (an older game, a test tool) is paired as before.
        name, stage = hello.get("name"), hello.get("stage")
        if isinstance(name, str) and name_refused(name):
            log(f"{self.address} sent a name that {name_refused(name)}, {short(name)}: named by its address")
        elif isinstance(name, str):
            self.name, self.address = name, f"{name} ({self.address})"  # every line about it says so
        if hello.get("check") is True:
            return log(f"{self.address} checked this server (kit.py check), and is not a player")
        if type(stage) is int and stage != STAGE_NUMBER:
            self.Send({"action": "otherstage", "stage": STAGE_NUMBER})  # game.py says what to do
            if not self.share.told_of_stage:  # once per machine: its game will try again
                self.share.told_of_stage = True
                log(f"{self.address} is a stage {stage} game, but this server runs stage {STAGE_NUMBER}: "
                    f"told it so, and not paired")
            return
        self._server.Connected(self, self.addr)

    def drop(self, message, reason):
        # One line for a dropped message, then at most one a second with a count,
        # so that a client flooding bad messages cannot flood the console too.
        now = time.monotonic()
        if now < self.quiet_until:
            self.unlogged_drops += 1
            return
        if self.unlogged_drops:
            reason += f" (and {self.unlogged_drops} more not shown)"
        PlayerChannel.drop(self, short(message), reason)
        self.unlogged_drops, self.quiet_until = 0, now + 1

    def unsent_bytes(self):
        return sum(len(data) for data in self.producer_fifo)  # asynchat's queue for the socket

    def handle_close(self):
        # A connection the system gave up on (TCP_USER_TIMEOUT, keepalive) can come
        # here as a hang-up, with nothing said: say why, as Error() would have.
        console.about = self.share
        try:
            error = self.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        except (AttributeError, OSError):
            error = 0  # already closed
        if error and self in self._server.channels:
            log(f"{self.address} lost its connection ({os.strerror(error)})")
        PlayerChannel.handle_close(self)

    def cut(self, why):
        console.about = self.share
        log(f"{self.address} {why}; closing its connection")
        self.handle_close()  # PodSixNet's: it calls our Close(), then closes the socket

    def handle_expt(self):
        # asyncore calls this for TCP's urgent byte (poll's POLLPRI). No game sends
        # one, and PodSixNet ignores it, which leaves it pending: the loop would spin.
        self.cut("sent an urgent (out-of-band) byte, which no game sends")

    def Error(self, error):
        # PodSixNet calls this after it has closed the channel because of an
        # error: a broken connection, or a bug in this file.
        console.about = self.share
        if isinstance(error, OSError):
            log(f"{self.address} lost its connection ({error.strerror or error})")
        else:
            log(f"{self.address}: a bug in server.py, connection closed:", sys.stderr)
            traceback.print_exc()
        self._server.player_left(self)


class Refused(ValueError):
    """A message that decodes, but is refused: too many values, or a dict key that is not text."""


class FairShare:
    """What the server knows of one address (one machine): its connections, the new
    ones it may open, and the lines the console may show about it. Each of the last
    two is a token bucket: `size` at once, then refilled in REFILL_SECONDS. Its
    connections share one budget of messages (ArmouredServer.spend())."""
    __slots__ = ("connections", "joins", "joined_at", "lines", "logged_at", "unshown", "budget", "budget_at",
                 "reading", "told_of_stage")

    def __init__(self, server):
        self.connections, self.unshown = set(), None  # unshown: lines not shown lately, kind -> how many
        self.budget, self.budget_at, self.reading = server.burst, time.monotonic(), True
        self.told_of_stage = False  # that its games are of another stage
        self.joins, self.joined_at = server.new_per_address, time.monotonic()
        self.lines, self.logged_at = console.lines_per_address, self.joined_at

    def may_join(self, size):
        self.joins, self.joined_at, allowed = spend(self.joins, self.joined_at, size)
        return allowed

    def may_log(self, size):
        self.lines, self.logged_at, allowed = spend(self.lines, self.logged_at, size)
        return allowed

    def idle(self, server, now):  # nothing to remember, both buckets full again: it may be forgotten
        full = (spend(self.joins, self.joined_at, server.new_per_address, now)[0] >= server.new_per_address - 1
                and spend(self.lines, self.logged_at, console.lines_per_address, now)[0] >= console.lines_per_address - 1)
        return not self.connections and not self.unshown and full


def spend(left, at, size, now=None):
    """One from a token bucket that holds `size` (0: no limit) and refills in
    REFILL_SECONDS: `left` were in it at time `at`. Returns (left, now, whether one was)."""
    if not size:
        return left, at, True
    now = now or time.monotonic()
    left = min(size, left + (now - at) * size / REFILL_SECONDS)
    return (left - 1, now, True) if left >= 1 else (left, now, False)


class Console:
    """Every line about a client goes through log() below, which asks this first. The
    first few lines about one address are printed, then one a second; the rest are
    counted, and summed up in one line a second (ArmouredServer.sweep()). So a machine
    that connects in a loop cannot bury the class's lines, nor slow the server down."""
    KINDS = ((" joined (", "joined"), (" left (", "left"), (" refused: ", "refused"),
             (" started: ", "game started"), ("; dropped", "dropped"), (" messages dropped, not shown", "dropped"),
             ("; closing its connection", "cut"), (" lost its connection", "lost"))

    def __init__(self):
        self.about = None  # the FairShare of the client whose doing is being logged, if any
        self.lines_per_address = LINES_PER_ADDRESS

    def shows(self, line, file):
        share = self.about
        if share is None or file is not sys.stdout or share.may_log(self.lines_per_address):
            return True
        kind = next((kind for text, kind in self.KINDS if text in line), "other")
        share.unshown = share.unshown or {}
        share.unshown[kind] = share.unshown.get(kind, 0) + 1
        return False


console = Console()
print_line = log  # the lesson's log(): print the line


def log(line, file=sys.stdout):
    """The lesson's log(), as the console allows (Console, above)."""
    if console.shows(line, file):
        print_line(line, file)


class ArmouredServer(GameServer):
    """The lesson's GameServer, with limits, and a loop that sleeps while nothing happens."""
    channelClass = ArmouredChannel
    max_players = MAX_PLAYERS
    per_address, new_per_address, message_seconds = PER_ADDRESS, NEW_PER_ADDRESS, MESSAGE_SECONDS
    messages_per_second, burst = MESSAGES_PER_SECOND, MESSAGES_PER_SECOND * BURST_SECONDS

    def __init__(self, *args, **kwargs):
        GameServer.__init__(self, *args, **kwargs)
        self.shares = defaultdict(lambda: FairShare(self))  # host -> FairShare, for those seen lately
        self.not_reading = {}       # FairShare -> when to read its address again
        self.accept_trouble, self.accept_again_at = None, 0.0
        self.next_sweep = 0.0
        if hasattr(select, "poll"):  # serve_ready: what asyncore.poll2() does with poll()'s answer
            self.poller = Epolling() if hasattr(select, "epoll") else select.poll()
            self.serve_ready, self.nap = asyncore.readwrite, NAP_SECONDS
        else:  # no nap (wait()): Windows' sleep() counts in 15.6 ms steps before Python 3.11
            self.poller = Selecting()
            self.serve_ready, self.nap = self.poller.serve_ready, 0
        self.woke, self.busy = 0.0, False  # wait()
        self.watched = {}           # socket's number -> what the loop waits for on it (READ, URGENT, WRITE)
        self.sending = {}           # channels with messages queued since the last turn (a dict: each once)
        self.arrivals = itertools.count()  # ArmouredChannel.arrival
        self.watch(self)            # the listening socket: newcomers

    def handle_accept(self):
        # PodSixNet's, with the newcomer's machine checked first. PodSixNet's own
        # prints a warning and returns when accept() fails; when the system has
        # no file left for the newcomer (EMFILE), it fails again on every turn,
        # since the newcomer still waits, and the loop spins.
        console.about = None
        try:
            accepted = self.accept()
        except OSError as error:
            return self.pause_accepting(error)
        if accepted is None:
            return  # the newcomer gave up before we got to it
        if self.accept_trouble:
            self.accept_trouble = None
            log("Taking new players again.")
        sock, addr = accepted
        share = console.about = self.shares[addr[0]]
        why = self.refusal(share)
        if why:
            sock.close()
            return log(f"{addr[0]}:{addr[1]} refused: {why}")
        channel = self.channelClass(sock, addr, self, self._map)
        self.channels.append(channel)
        channel.Send({"action": "connected"})  # Connected() waits for its hello (introduce())

    def refusal(self, share):
        if len(self.channels) >= self.max_players:  # refuse it now, or accept() fails later
            return f"the server is full ({self.max_players} players)"
        if self.per_address and len(share.connections) >= self.per_address:
            return f"{self.per_address} connections from this address already (--per-address)"
        if not share.may_join(self.new_per_address):
            return (f"too many new connections from this address: {self.new_per_address} at once, then "
                    f"{self.new_per_address} each {REFILL_SECONDS} s (--new-per-address)")
        return None

    def pause_accepting(self, error):
        # Stop watching the listening socket for a moment (readable(), below), and
        # say so once, however long it lasts: the next newcomer is taken later.
        self.accept_again_at = time.monotonic() + ACCEPT_PAUSE_SECONDS
        if not self.accept_trouble:
            log(f"Cannot take a new player now ({error.strerror or error}): trying again "
                f"every {ACCEPT_PAUSE_SECONDS} s, without a line each time.")
        self.accept_trouble = error
        self.watch(self)  # not readable for a while: Pump() watches it again when it is

    def readable(self):
        return not self.accept_trouble or time.monotonic() >= self.accept_again_at

    def player_left(self, channel):
        if channel in self.channels:
            console.about = channel.share
            channel.share.connections.discard(channel)
            if channel.unlogged_drops:  # what drop() had not shown
                log(f"{channel.address} had {channel.unlogged_drops} more messages dropped, not shown")
        GameServer.player_left(self, channel)

    def spend(self, share, cost):
        # An address's connections share one budget, so that ten connections buy
        # no more of the server than one. It refills at messages_per_second, up to
        # BURST_SECONDS of it; a message of a game's size costs 1, a bigger one more.
        # Past it, the address's connections are not read for a while (readable(),
        # above): nothing is lost, TCP holds it, and a client flooding moves cannot
        # make the server flood its opponent.
        rate, now = self.messages_per_second, time.monotonic()
        if not rate:
            return
        share.budget = min(self.burst, share.budget + rate * (now - share.budget_at)) - cost
        share.budget_at = now
        if share.budget < 1:  # read again once a tenth of a second's worth has come back
            share.reading = False
            self.not_reading[share] = now + (rate / 10 - share.budget) / rate
            for channel in share.connections:
                self.watch(channel)

    def read_again(self, now):
        for share, until in list(self.not_reading.items()):
            if now >= until:
                del self.not_reading[share]
                share.reading = True
                for channel in share.connections:
                    self.watch(channel)
                    if channel.whole_by is not None:  # its unfinished message waited for us, not for it
                        channel.whole_by = after(self.message_seconds)

    def Pump(self):
        # One turn of the loop. It costs what is ready, not how many are connected:
        # PodSixNet's own Server.Pump() pumps every channel, and asyncore's poll2()
        # asks every socket's readable() and writable() and builds a new poll object,
        # every turn. This turns only to the channels that queued messages, and
        # keeps what it waits for (watch()) until that changes.
        if stop.asked:
            raise KeyboardInterrupt  # asked before, and swallowed on the way
        sending = self.sending
        if sending:
            self.sending = {}
            if len(sending) > 1:  # in the order the players joined, as PodSixNet's own
                sending = sorted(sending, key=joined)
            for channel in sending:
                if channel.connected:  # or it left after it queued them
                    self.pump(channel)
        # Wait until a socket is ready, or a deadline, or a second (so that a stop
        # swallowed on the way is seen). Then read what has arrived, which calls
        # found_terminator(), and Network_<action>; and write what waited.
        now = time.monotonic()
        wait = 1.0
        if self.not_reading:  # wake when the first client over its budget may be read again
            wait = min(wait, max(0.0, min(self.not_reading.values()) - now))
        if self.accept_trouble and self.accept_again_at > now:  # and when newcomers may be taken again
            wait = min(wait, self.accept_again_at - now)
        for fd, events in self.wait(wait):
            dispatcher = self._map.get(fd)
            if dispatcher is not None:
                self.serve_ready(dispatcher, events)
                if events != READ:  # reading changes nothing it waits for, or calls watch() itself
                    self.watch(dispatcher)  # it may have written all it had, or closed
        now = time.monotonic()
        if self.accept_trouble:
            self.watch(self)  # readable() again once the pause is over
        if self.not_reading:
            self.read_again(now)
        if now >= self.next_sweep:
            self.sweep(now)

    def pump(self, channel):
        channel.Pump()  # hand the messages Send() queued to the socket
        if channel.producer_fifo:  # asynchat's queue: what the socket did not take
            if channel.unsent_bytes() > MAX_UNSENT_BYTES:
                # Its socket takes no more: the client has stopped reading (a
                # frozen window, a stuck script). Keeping everything for it would
                # grow without limit, so let it go, just as if it had left.
                return channel.cut(f"left {MAX_UNSENT_BYTES} bytes unread")
            self.watch(channel)  # what the socket did not take yet: wait to write it
        elif self.watched.get(channel._fileno, 0) & WRITE:
            self.watch(channel)  # it waited to write, and has written all: wait no more

    def wait(self, seconds):
        """The loop's one wait: until a watched socket is ready, or `seconds` have
        passed; returns what is ready, as (socket's number, events). Waking costs
        the system more than a move does, so while messages come less than
        NAP_SECONDS apart, a server that has done all there was naps until that
        long since it last woke, then takes all that came meanwhile in one turn:
        a message waits 1 ms at most, and only while they come that often (one
        game's moves come about 8 ms apart). Tools that change how the server
        waits wrap this (tools/classview.py, tests/run_as.py)."""
        napped = False
        ready = self.poller.poll(0 if self.busy else seconds * 1000)  # in milliseconds
        if self.busy and not ready:  # it has done all there was: nap, then take what came meanwhile
            napped = True
            time.sleep(max(0.0, self.woke + self.nap - time.monotonic()))
            ready = self.poller.poll(0)
        last, self.woke = self.woke, time.monotonic()
        self.busy = bool(ready) and (napped or self.woke - last < self.nap)
        return ready

    def watch(self, dispatcher):
        """Wait from now on for what `dispatcher` (a channel, or the listening
        socket) waits for now: to read while readable(), to write while it has
        bytes unsent. Called only where that may change: a turn that sent it
        messages, or served its socket for more than reading, its address's
        budget, its joining."""
        fd = dispatcher._fileno
        if fd is None or self._map.get(fd) is not dispatcher:
            return  # closed
        events = READ | URGENT if dispatcher.readable() else 0  # URGENT: handle_expt() hears the urgent byte
        if not dispatcher.accepting and dispatcher.writable():
            events |= WRITE
        if self.watched.get(fd, 0) == events:
            return
        if events:
            self.watched[fd] = events
            self.poller.register(fd, events)  # or changes what it waits for
        else:
            self.unwatch(dispatcher)  # nothing to wait for: as poll2() would, leave it out

    def unwatch(self, dispatcher):
        if self.watched.pop(dispatcher._fileno, None) is not None:
            self.poller.unregister(dispatcher._fileno)

    def sweep(self, now):
        # Once a second, after reading what has arrived: close a connection whose
        # message is late, say what the console did not show, forget the machines
        # that have left.
        self.next_sweep = now + 1
        for channel in list(self.channels):
            if channel.whole_by is not None and now > channel.whole_by and channel.share.reading:
                seconds = f"{self.message_seconds:g} s"
                channel.cut(f"took over {seconds} to send a whole message" if channel.has_spoken else
                            f"sent part of a message, and no more, in its first {seconds}" if channel._ibuffer else
                            f"sent no message in its first {seconds}")
        for host, share in list(self.shares.items()):
            if share.unshown:
                kinds = ", ".join(f"{count} {kind}" for kind, count in share.unshown.items())
                print_line(f"{host}: {sum(share.unshown.values())} more lines not shown: {kinds} "
                           f"({self.summary()})")
                share.unshown = None
            elif share.idle(self, now):
                del self.shares[host]
        console.about = None

    def set_reuse_addr(self):
        # PodSixNet calls this before it binds the port. On Windows, SO_REUSEADDR
        # lets a second server bind a port in use without an error, so ask there
        # for the port alone, and the second server hears "already in use".
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        else:
            Server.set_reuse_addr(self)


def checked_decoder():
    # rencode decodes each value in pure Python, about 2 us a value whatever its
    # size, so a 64 KiB message of 65 000 empty strings takes a tenth of a second.
    # These decoders of lists, tuples and dicts count the values, and stop at
    # MAX_VALUES: asynchat has already cut the message, so nothing past the cap
    # need be decoded. They also put only str keys in a dict: ints and tuples of
    # ints hash the same in every process, so a client can send keys that share
    # one hash, and the dict takes quadratic time to build. A str's hash is salted
    # with a secret each process picks as it starts, and nothing the server sends
    # shows it. loads() refuses a message past the cap or with any other key, and
    # keeps in loads.values how many values it decoded (for the budget).
    decode, other_keys = rencode.decode_func, []

    def count(values):
        loads.values += values
        if loads.values > MAX_VALUES:
            raise Refused(f"more than {MAX_VALUES} values")

    def entry(x, f, decoded):  # a key and its value
        key, f = decode[x[f:f + 1]](x, f)
        value, f = decode[x[f:f + 1]](x, f)
        if type(key) is str:
            decoded[key] = value
        else:
            other_keys.append(key)
        return f

    def sequence(kind):  # a list or a tuple that ends with rencode's end byte
        def decode_to_end(x, f):
            values, f = [], f + 1
            while x[f:f + 1] != rencode.CHR_TERM:
                count(1)
                value, f = decode[x[f:f + 1]](x, f)
                values.append(value)
            return kind(values), f + 1
        return decode_to_end

    def sequence_of(kind, length):  # a list or a tuple of a length given by its type byte
        def decode_fixed(x, f):
            count(length)
            values, f = [], f + 1
            for _ in range(length):
                value, f = decode[x[f:f + 1]](x, f)
                values.append(value)
            return kind(values), f
        return decode_fixed

    def dict_to_end(x, f):
        decoded, f = {}, f + 1
        while x[f:f + 1] != rencode.CHR_TERM:
            count(2)
            f = entry(x, f, decoded)
        return decoded, f + 1

    def dict_of(length):
        def decode_fixed(x, f):
            count(2 * length)
            decoded, f = {}, f + 1
            for _ in range(length):
                f = entry(x, f, decoded)
            return decoded, f
        return decode_fixed

    def loads(raw):
        other_keys.clear()
        loads.values = 1  # the message itself
        message = rencode.loads(raw)  # raises if the bytes do not decode
        if other_keys:
            raise Refused(f"a key that is not text, {short(other_keys[0])}")
        return message

    decode[rencode.CHR_LIST], decode[rencode.CHR_TUPLE] = sequence(list), sequence(tuple)
    decode[rencode.CHR_DICT] = dict_to_end
    for kind, first, lengths in ((list, rencode.LIST_FIXED_START, rencode.LIST_FIXED_COUNT),
                                 (tuple, rencode.TUPLE_FIXED_START, rencode.TUPLE_FIXED_COUNT)):
        for length in range(lengths):
            decode[bytes([first + length])] = sequence_of(kind, length)
    for length in range(rencode.DICT_FIXED_COUNT):
        decode[bytes([rencode.DICT_FIXED_START + length])] = dict_of(length)
    return loads


loads = checked_decoder()  # bytes back into a message


def joined(channel):
    return channel.arrival


class Epolling:
    """Linux's epoll, as a poll object: the system keeps the sockets watched, so a
    wait costs what is ready, where poll() hands the system every socket each time."""

    def __init__(self):
        self.epoll = select.epoll()

    def register(self, fd, events):
        try:
            self.epoll.register(fd, events)
        except FileExistsError:  # watched already: what it waits for changes
            self.epoll.modify(fd, events)

    def unregister(self, fd):
        try:
            self.epoll.unregister(fd)
        except OSError:
            pass  # its socket closed already, and the system forgot it then

    def poll(self, milliseconds):
        return self.epoll.poll(milliseconds / 1000)  # epoll counts in seconds


class Selecting:
    """What the loop waits with on Windows, which has no poll(): select(), given
    the same sets of sockets each turn, changed only as what they wait for
    changes. select() takes at most SELECT_LIMIT sockets in each set (main())."""

    def __init__(self):
        self.reading, self.writing = set(), set()

    def register(self, fd, events):
        (self.reading.add if events & READ else self.reading.discard)(fd)
        (self.writing.add if events & WRITE else self.writing.discard)(fd)

    def unregister(self, fd):
        self.reading.discard(fd)
        self.writing.discard(fd)

    def poll(self, milliseconds):
        seconds = milliseconds / 1000
        if not (self.reading or self.writing):
            time.sleep(seconds)  # Windows' select() of no sockets fails at once
            return []
        try:  # the urgent byte shows among the "exceptional" sockets
            readable, writable, urgent = select.select(self.reading, self.writing, self.reading, seconds)
        except InterruptedError:
            return []
        ready = dict.fromkeys(readable, READ)
        for fd in writable:
            ready[fd] = ready.get(fd, 0) | WRITE
        for fd in urgent:
            ready[fd] = ready.get(fd, 0) | URGENT
        return ready.items()

    @staticmethod
    def serve_ready(dispatcher, events):
        """What asyncore.poll() does with select()'s answer, for one socket."""
        for event, handle in ((READ, asyncore.read), (WRITE, asyncore.write), (URGENT, asyncore._exception)):
            if events & event and dispatcher._fileno is not None:  # not closed by the one before
                handle(dispatcher)


def after(seconds):
    """When `seconds` from now will be, or None for 0: no deadline."""
    return time.monotonic() + seconds if seconds else None


def name_refused(name):
    """Why a player's name cannot be shown, or None: too long, or with a character that
    hides or turns text (Unicode's control and format characters: zero-width, bidi)."""
    if not name.strip() or len(name) > MOST_NAME:
        return f"is not 1 to {MOST_NAME} characters"
    odd = next((c for c in name if unicodedata.category(c) in ("Cc", "Cf")), None)
    return None if odd is None else f"holds {ascii(odd)}, which hides or turns text"


def short(value):
    text = repr(value)  # a message as it was sent, cut short if it is long
    return text if len(text) <= 80 else text[:77] + "..."


def notice_vanishing(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)  # probe a silent connection
    for option, value in VANISHING:
        if hasattr(socket, option):  # each OS has its own set
            try:
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
            except OSError:
                pass  # an older system: its own, slower timers stay


def file_limit():
    """How many files this process may open, where the system says (not on Windows)."""
    try:
        import resource
    except ImportError:
        return None
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def addresses():
    """This machine's addresses that other machines can reach it at, as far as the
    standard library can tell: the one it reaches the internet from, and its name's."""
    found = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # a UDP "connection" only picks a route: nothing is sent
            found.append(probe.getsockname()[0])
    except OSError:
        pass  # no route out: a classroom network without a router
    try:
        found += [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        pass
    return [address for address in dict.fromkeys(found) if not address.startswith(("127.", "169.254."))]


def tell_the_class(host, port):
    """Say what each student types to join, or that only this machine can."""
    if host.startswith("127."):
        return log("Only this machine can join. To let the class join, start the server "
                   "with --host 0.0.0.0")
    port_flag = "" if port == DEFAULT_PORT else f" --port {port}"
    found = addresses() if host == "0.0.0.0" else [host]
    for address in found or ["ADDRESS"]:
        # The launcher runs the game with the kit's .venv, so nothing need be activated.
        command = f"tools/kit.py game --stage {STAGE_NUMBER} --host {address}{port_flag}"
        windows = command.replace("/", "\\")
        log(f"students: python3 {command}   (Windows: py {windows})")
    if not found:
        log("  where ADDRESS is this machine's: docs/classroom-network.md says how to find it")


def stop(signum, frame):
    # Ctrl+C, or `kill`: stop the server. Remember it too, because PodSixNet's
    # Channel.handle_error has a bare "except:" that could swallow what follows.
    # A second one while stopping changes nothing: Ctrl+C reaches the launcher
    # (kit.py) and the server both, and each may pass it on.
    if not stop.asked:
        stop.asked = True
        raise KeyboardInterrupt


stop.asked = False


def main():
    parser = argparse.ArgumentParser(description=f"The {STAGE} server.")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help="address to listen on; 0.0.0.0 for every network (default %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help="port to listen on; 0 picks a free one (default %(default)s)")
    parser.add_argument("--max-players", type=int, default=MAX_PLAYERS,
                        help="refuse players past this many (default %(default)s)")
    for flag, default, what in (
            ("--per-address", PER_ADDRESS, "connections at once from one address"),
            ("--new-per-address", NEW_PER_ADDRESS, f"new connections from one address at once, and again "
                                                   f"each {REFILL_SECONDS} s"),
            ("--lines-per-address", LINES_PER_ADDRESS, f"log lines about one address at once, and again each "
                                                       f"{REFILL_SECONDS} s; past that, a count a second"),
            ("--message-seconds", MESSAGE_SECONDS, "seconds a message may take to arrive whole; the first, "
                                                   "from connecting"),
            ("--messages-per-second", MESSAGES_PER_SECOND, f"messages read from one address a second, "
                                                           f"{BURST_SECONDS} s of them at once")):
        parser.add_argument(flag, type=int, default=default, metavar="N",
                            help=f"{what}; 0: no limit (default %(default)s)")
    args = parser.parse_args()
    for stream in (sys.stdout, sys.stderr):  # a console that cannot show a character shows \u65e5,
        if hasattr(stream, "reconfigure"):  # not a traceback (Windows' is often cp1252)
            stream.reconfigure(errors="backslashreplace")
    try:
        server = ArmouredServer(localaddr=(args.host, args.port), listeners=BACKLOG)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            log(f"Port {args.port} is already in use: is another server still running? "
                f"Stop it with Ctrl+C, or start this one with --port {args.port + 1}.", sys.stderr)
        else:
            log(f"Cannot listen on {args.host}:{args.port}: {error.strerror or error}.", sys.stderr)
        return 1
    server.max_players, files = args.max_players, file_limit()
    if files is not None and server.max_players > files - FILE_MARGIN:
        server.max_players = max(1, files - FILE_MARGIN)
        log(f"This system lets the server open at most {files} files, so it takes at most "
            f"{server.max_players} players.")
    if not hasattr(select, "poll") and server.max_players >= SELECT_LIMIT:
        server.max_players = SELECT_LIMIT - 1  # its players' sockets, and the one it listens on
        log(f"This system has no poll(), and select() watches at most {SELECT_LIMIT} sockets, "
            f"so this server takes at most {server.max_players} players.")
    server.per_address, server.new_per_address = args.per_address, args.new_per_address
    server.message_seconds, console.lines_per_address = args.message_seconds, args.lines_per_address
    server.messages_per_second = args.messages_per_second
    server.burst = args.messages_per_second * BURST_SECONDS
    host, port = server.socket.getsockname()[:2]
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        log(f"{STAGE} server listening on {host}:{port} (Ctrl+C stops it)")
        tell_the_class(host, port)
        server.serve_forever()
    except KeyboardInterrupt:
        console.about = None
        log("server stopped")
    if hasattr(signal, "pthread_sigmask"):  # and stay stopped: one more, as Python exits, would
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})  # end it by the signal
    return 0


if __name__ == "__main__":
    sys.exit(main())

r"""Stage 1 of 5, echo: the smallest PodSixNet server. It answers every "echo".

What this stage teaches:
  * PodSixNet's Server listens for clients and makes one Channel for each: an
    instance of the class named by channelClass, the server's end of that
    client's connection.
  * A message is a dict with an "action". When one arrives, PodSixNet calls
    the channel's Network_<action> method: "echo" runs Network_echo.
  * TCP carries a stream of bytes, not messages. PodSixNet turns each message
    into bytes (rencode) and ends them with a marker: a zero byte, three
    dashes, a zero byte (\0---\0). The receiver cuts the stream at each marker
    and turns the bytes back. Nothing keeps the marker out of a message, so
    one that contains it is cut in two (README: stage 1, exercise 4).
  * Channel.Send() only queues a message. The server's loop, Pump(), hands
    each channel's queue to its socket, then reads what has arrived.

The lesson ends at the line "# Armour". Below it: what keeps one client from
hurting the others, and the command line, the same in every stage. Its
ArmouredChannel and ArmouredServer are this lesson's classes with that added,
and they are what main() runs.

Run it from the repo root, and stop it with Ctrl+C:
    python stage1_echo/server.py [--host HOST] [--port PORT]
"""
import sys
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # why: see "# Armour" below
    from PodSixNet.Channel import Channel
    from PodSixNet.Server import Server

STAGE = "stage 1: echo"


class PlayerChannel(Channel):
    """The server's end of one client's connection."""

    def __init__(self, *args, **kwargs):
        Channel.__init__(self, *args, **kwargs)
        host, port = self.addr[:2]  # PodSixNet gives each channel its client's address
        self.address = f"{host}:{port}"  # for the log, e.g. 127.0.0.1:52311

    def Network_echo(self, message):
        text = message.get("text")
        if not isinstance(text, str):
            return self.drop(message, "an echo needs a text string")
        self.Send({"action": "echo", "text": text})  # back to this client only

    def drop(self, message, reason):
        log(f"{self.address} sent {message}: {reason}; dropped")  # the client stays connected

    def Close(self):
        # PodSixNet calls this when the client hangs up. It gives each channel
        # its server as self._server.
        self._server.player_left(self)


class GameServer(Server):
    channelClass = PlayerChannel  # PodSixNet makes one of these per client

    def Connected(self, channel, addr):
        # PodSixNet calls this for each new client, once it has queued a greeting,
        # {"action": "connected"}, for it (and printed "connection" to the console).
        log(f"{channel.address} joined ({self.summary()})")

    def player_left(self, channel):
        if channel not in self.channels:
            return  # already gone: Close() and Error() (below "# Armour") may both say so
        self.channels.remove(channel)  # PodSixNet keeps every channel here, and never removes one
        log(f"{channel.address} left ({self.summary()})")

    def summary(self):
        return f"connected {len(self.channels)}"

    def serve_forever(self):
        while True:
            # Send every channel's queued messages, then read what arrives and call
            # its Network_<action> method. This Pump() is ArmouredServer's (below
            # "# Armour"): PodSixNet's own never waits, so it would keep a core busy.
            self.Pump()


def log(line, file=sys.stdout):
    print(line, file=file, flush=True)  # flush: show it now, even through a pipe


# Armour: below this line is what keeps one client from hurting the others (the
# limits, bad bytes, a client that stops reading or vanishes), then the command
# line. These lines are the same in every stage; README's "How it holds up" tries each.
import argparse
import errno
import os
import select
import signal
import socket
import time
import traceback

# PodSixNet 0.11 is built on asyncore and asynchat, which Python deprecates
# (3.12 removed them; requirements.txt installs a copy there). The imports at the
# top hide that warning: it is meant for PodSixNet's authors, not for a student.
from PodSixNet.asyncwrapper import asyncore  # the event loop under PodSixNet
from PodSixNet.rencode import loads          # bytes back into a message

DEFAULT_HOST = "127.0.0.1"  # this machine only; --host 0.0.0.0 serves a classroom LAN
DEFAULT_PORT = 31425        # PodSixNet's client default, so game.py needs no flags
BACKLOG = 128               # connections the OS holds for us: a class joins in a burst
MAX_PLAYERS = 1000          # many systems let a process open only 1024 files (--max-players)
READ_BYTES = 4096           # the most read from one client per turn: none can hog the loop
MAX_MESSAGE_BYTES = 65536   # a message this long is junk (the game's are under 200 bytes)
MAX_UNSENT_BYTES = 65536    # a client this far behind has stopped reading
SELECT_LIMIT = 512          # the sockets select() can watch on Windows, which has no poll()
# A laptop that sleeps, or walks out of Wi-Fi, vanishes without a word, and TCP
# alone notices only after many minutes. These socket options, where the OS has
# them, make it notice within about 11 s (README: Across a classroom network).
VANISHING = (("TCP_KEEPIDLE", 5),     # after 5 s of silence, ask the peer if it is there
             ("TCP_KEEPALIVE", 5),    # (the same, as macOS names it)
             ("TCP_KEEPINTVL", 2),    # ask again every 2 s,
             ("TCP_KEEPCNT", 3),      # and after 3 asks unanswered, it has gone
             ("TCP_USER_TIMEOUT", 10000))  # Linux: or after 10 s of sent data unanswered
GAME_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "game.py")


class ArmouredChannel(PlayerChannel):
    """The lesson's PlayerChannel, made safe from what a client sends or fails to send."""
    ac_in_buffer_size = READ_BYTES  # asynchat's read size; 64 KiB unless we say

    def __init__(self, *args, **kwargs):
        PlayerChannel.__init__(self, *args, **kwargs)
        self.unlogged_drops, self.quiet_until = 0, 0.0  # see drop()
        notice_vanishing(self.socket)  # so that a vanished client is noticed

    def collect_incoming_data(self, data):
        # asynchat hands over each piece of a message until the end marker.
        # Hold no more than MAX_MESSAGE_BYTES: a client that never sends the
        # marker would otherwise fill the server's memory.
        if len(self._ibuffer) + len(data) > MAX_MESSAGE_BYTES:
            self._ibuffer = b""
            self.cut(f"sent {MAX_MESSAGE_BYTES} bytes and no end marker")
        elif self.connected:
            self._ibuffer += data

    def found_terminator(self):
        # asynchat calls this when a whole message has arrived. PodSixNet's own
        # version raises on bytes that do not decode, which would look like a bug
        # in this file, and prints "OOB data" for a message that is not a dict.
        # This one cuts a client that sends bytes that do not decode, and drops
        # any other message it cannot use, each with one line, and serves on.
        raw, self._ibuffer = self._ibuffer, b""
        if not self.connected:
            return  # closed earlier in this same read
        try:
            message = loads(raw)
        except Exception:
            return self.cut("sent bytes that do not decode")
        action = message.get("action") if isinstance(message, dict) else None
        handler = getattr(self, "Network_" + action, None) if isinstance(action, str) else None
        if handler is None:
            return self.drop(message, "no such action")
        handler(message)
        if hasattr(self, "Network"):
            self.Network(message)  # after Network_<action>, as PodSixNet does

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
        try:
            error = self.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        except (AttributeError, OSError):
            error = 0  # already closed
        if error and self in self._server.channels:
            log(f"{self.address} lost its connection ({os.strerror(error)})")
        PlayerChannel.handle_close(self)

    def cut(self, why):
        log(f"{self.address} {why}; closing its connection")
        self.handle_close()  # PodSixNet's: it calls our Close(), then closes the socket

    def Error(self, error):
        # PodSixNet calls this after it has closed the channel because of an
        # error: a broken connection, or a bug in this file.
        if isinstance(error, OSError):
            log(f"{self.address} lost its connection ({error.strerror or error})")
        else:
            log(f"{self.address}: a bug in server.py, connection closed:", sys.stderr)
            traceback.print_exc()
        self._server.player_left(self)


class ArmouredServer(GameServer):
    """The lesson's GameServer, with limits, and a loop that sleeps while nothing happens."""
    channelClass = ArmouredChannel
    max_players = MAX_PLAYERS

    def Connected(self, channel, addr):
        if len(self.channels) > self.max_players:  # refuse it now, or accept() fails
            self.channels.remove(channel)         # later and the loop spins, retrying it
            channel.close()
            return log(f"{channel.address} refused: the server is full ({self.max_players} players)")
        GameServer.Connected(self, channel, addr)

    def player_left(self, channel):
        if channel in self.channels and channel.unlogged_drops:  # what drop() had not shown
            log(f"{channel.address} had {channel.unlogged_drops} more messages dropped, not shown")
        GameServer.player_left(self, channel)

    def Pump(self):
        if stop.asked:
            raise KeyboardInterrupt  # asked before, and swallowed on the way
        for channel in list(self.channels):  # a copy: a channel that closes leaves the list
            channel.Pump()  # hand the messages Send() queued to the socket
            if channel.unsent_bytes() > MAX_UNSENT_BYTES:
                # Its socket takes no more: the client has stopped reading (a
                # frozen window, a stuck script). Keeping everything for it would
                # grow without limit, so let it go, just as if it had left.
                channel.cut(f"left {MAX_UNSENT_BYTES} bytes unread")
        # PodSixNet's own Server.Pump() never waits, so its examples loop on Pump()
        # and sleep(0.0001), which keeps a core busy while nobody plays. poll2
        # waits until a socket is ready, or a second has passed (so that a stop
        # swallowed on the way is seen), and unlike select() it can watch more
        # than 1024 sockets. Then it reads what has arrived, which calls
        # found_terminator(), and Network_<action>.
        if hasattr(select, "poll"):
            asyncore.poll2(1.0, self._map)
        else:  # Windows: select(), and a second at most, or Ctrl+C waits for a player
            asyncore.poll(1.0, self._map)

    def set_reuse_addr(self):
        # PodSixNet calls this before it binds the port. On Windows, SO_REUSEADDR
        # lets a second server bind a port in use without an error, so ask there
        # for the port alone, and the second server hears "already in use".
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        else:
            Server.set_reuse_addr(self)


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
    game_py = os.path.relpath(GAME_PY)
    port_flag = "" if port == DEFAULT_PORT else f" --port {port}"
    found = addresses() if host == "0.0.0.0" else [host]
    for address in found or ["ADDRESS"]:
        log(f"students: python {game_py} --host {address}{port_flag}")
    if not found:
        log("  where ADDRESS is this machine's: README, Across a classroom network, says how to find it")


def stop(signum, frame):
    # Ctrl+C, or `kill`: stop the server. Remember it too, because PodSixNet's
    # Channel.handle_error has a bare "except:" that could swallow what follows.
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
    args = parser.parse_args()
    try:
        server = ArmouredServer(localaddr=(args.host, args.port), listeners=BACKLOG)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            log(f"Port {args.port} is already in use: is another server still running? "
                f"Stop it with Ctrl+C, or start this one with --port {args.port + 1}.", sys.stderr)
        else:
            log(f"Cannot listen on {args.host}:{args.port}: {error.strerror or error}.", sys.stderr)
        return 1
    server.max_players = args.max_players
    if not hasattr(select, "poll") and server.max_players >= SELECT_LIMIT:
        server.max_players = SELECT_LIMIT - 1  # its players' sockets, and the one it listens on
        log(f"This system has no poll(), and select() watches at most {SELECT_LIMIT} sockets, "
            f"so this server takes at most {server.max_players} players.")
    host, port = server.socket.getsockname()[:2]
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        log(f"{STAGE} server listening on {host}:{port} (Ctrl+C stops it)")
        tell_the_class(host, port)
        server.serve_forever()
    except KeyboardInterrupt:
        log("server stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Stage 2 of 5, queue: the game waits in the server's queue for an opponent.

What this stage adds to stage 1:
  * Three messages from the server: "waiting" (you are in the queue),
    "startgame" (you have an opponent) and "opponentleft" (your opponent has
    gone, and you are back in the queue).
  * The window shows which of those happened last.

The lesson ends at the line "# Armour". Below it: what turns every network
failure into one clear line, and the command line, the same in every stage.

Start the server first, then run this twice from the repo root:
    python stage2_queue/game.py [--host HOST] [--port PORT]
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

STAGE = "stage 2: queue"
WIDTH, HEIGHT = 640, 480
FPS = 60
BACKGROUND, TEXT, DIM, ALERT = (24, 26, 34), (235, 235, 235), (150, 156, 170), (255, 120, 100)
# PodSixNet's connection reports its own socket events as messages too. They
# never crossed the network, so the counters leave them out.
LOCAL_EVENTS = ("socketConnect", "disconnected", "error")


class Game(ConnectionListener):
    """What one player sees: the connection, its messages and the window."""

    def __init__(self, host, port):
        self.address = f"{host}:{port}"
        self.state = "connecting"
        self.error = None            # what went wrong, shown until we exit
        self.notice = None           # news to show until the next game starts
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
        self.state = "in game"
        self.notice = None

    def Network_opponentleft(self, message):
        self.state = "opponent left"
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
        text = self.big_font.render(self.state, True, DIM)
        screen.blit(text, text.get_rect(center=(WIDTH // 2, HEIGHT // 2)))
        if self.notice:
            text = self.font.render(self.notice, True, ALERT)
            screen.blit(text, text.get_rect(center=(WIDTH // 2, HEIGHT // 2 + 50)))


# Armour: below this line is what makes each network failure one clear line (no
# server, no answer, a server that vanishes, a message with no handler), then the
# command line. These lines are the same in every stage; README's Troubleshooting
# lists what they print.
import argparse
import socket

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 31425      # the server's default too
ERROR_SECONDS = 4         # how long an error stays up before the game exits
CONNECT_SECONDS = 8       # no answer in this long: a firewall, or no such machine
#                           (under TCP_USER_TIMEOUT's 10 s below, so this line comes first)
# A server's machine that sleeps, or leaves the network, vanishes without a word,
# and TCP alone notices only after many minutes. These socket options, where the
# OS has them, make it notice within about 11 s (README: Across a classroom network).
VANISHING = (("TCP_KEEPIDLE", 5),     # after 5 s of silence, ask the peer if it is there
             ("TCP_KEEPALIVE", 5),    # (the same, as macOS names it)
             ("TCP_KEEPINTVL", 2),    # ask again every 2 s,
             ("TCP_KEEPCNT", 3),      # and after 3 asks unanswered, it has gone
             ("TCP_USER_TIMEOUT", 10000))  # Linux: or after 10 s of sent data unanswered
SERVER_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "server.py")


class ArmouredGame(Game):
    """The lesson's Game, which says in one line what went wrong, and never hangs."""

    def __init__(self, host, port):
        self.port, self.unhandled, self.heard_from_server = port, set(), False
        Game.__init__(self, host, port)
        self.connect_by = time.monotonic() + CONNECT_SECONDS
        if connection.socket is not None:
            notice_vanishing(connection.socket)  # so that a vanished server is noticed

    def Network(self, message):
        Game.Network(self, message)
        action = message["action"]
        self.heard_from_server = self.heard_from_server or action not in LOCAL_EVENTS
        if action != "socketConnect" and not hasattr(self, f"Network_{action}"):
            if action not in self.unhandled:  # once: a held key would repeat it every frame
                self.unhandled.add(action)
                print(f"game.py has no Network_{action}, so it ignores {short(message)}",
                      file=sys.stderr, flush=True)

    def Network_error(self, message):
        error = message["error"]  # an exception, or the arguments of one
        why = error[-1] if isinstance(error, tuple) else (getattr(error, "strerror", None) or error)
        if self.state == "connecting" and self.address.startswith(("127.", "localhost:")):
            self.fail(f"No server at {self.address} ({why}). Start one first: "
                      f"python {os.path.relpath(SERVER_PY)} --port {self.port}")
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
        else:
            Game.handle_event(self, event)

    def update(self):
        Game.update(self)
        if self.error is None and self.state != "connecting" and not connection.connected:
            # PodSixNet forgets an error that comes while it sends (EndPoint.Pump
            # empties its queue after sending), so ask the connection itself.
            self.fail(f"Lost the connection to the server at {self.address} (it stopped answering).")
        if self.state == "connecting" and not self.heard_from_server and time.monotonic() > self.connect_by:
            self.fail(f"No answer from {self.address} in {CONNECT_SECONDS} s. Is the server "
                      "running there, and does its firewall let players in?")
        if self.error and time.monotonic() > self.error_until:
            self.running = False


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
    args = parser.parse_args()
    try:
        pygame.display.init()  # only what we use: without the sound system, no audio
        pygame.font.init()     # errors on a machine that has no sound card
        screen = pygame.display.set_mode((WIDTH, HEIGHT))
    except pygame.error as error:
        print(f"Cannot open a window ({error}): run the game where there is a display.",
              file=sys.stderr)
        return 1
    pygame.display.set_caption(f"{STAGE} - {args.host}:{args.port}")
    clock = pygame.time.Clock()
    try:
        game = ArmouredGame(args.host, args.port)
        while game.running:
            for event in pygame.event.get():
                game.handle_event(event)
            game.update()
            game.draw(screen)
            pygame.display.flip()
            clock.tick(FPS)
    except KeyboardInterrupt:
        return 0  # Ctrl+C in the terminal closes the game like the window's close button
    finally:
        pygame.quit()  # only once the loop is over: nothing may draw after this
    return game.exit_code


if __name__ == "__main__":
    sys.exit(main())

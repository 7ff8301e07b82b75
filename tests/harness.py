"""The test harness: real servers, real PodSixNet clients and real games, over loopback.

  * ServerProcess runs a stage's server.py as a subprocess on a free port and
    keeps every line it prints.
  * RawClient is a PodSixNet EndPoint in this process, for protocol-level tests.
  * WireClient speaks PodSixNet's wire format on a plain blocking socket, with
    a reading thread: for clients that flood, stall, or vanish with a reset.
  * ProxyProcess puts tools/lagproxy.py between clients and a server.
  * GameProcess runs a stage's game.py Game class in its own process (PodSixNet's
    client connection is a module-level singleton, so one game per process),
    driven by tests/game_driver.py.

Everything waits on a condition with a deadline; nothing sleeps blindly.
"""
import itertools
import json
import os
import queue
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import warnings
from collections import defaultdict
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from PodSixNet.Channel import Channel
    from PodSixNet.EndPoint import EndPoint
    from PodSixNet.asyncwrapper import asyncore
    from PodSixNet.rencode import dumps, loads

ROOT = Path(__file__).resolve().parent.parent
STAGES = sorted((p.name for p in ROOT.glob("stage*_*") if (p / "server.py").exists()),
                key=lambda name: int(re.match(r"stage(\d+)", name).group(1)))
TIMEOUT = 30.0  # seconds any single wait may take before the test fails: waits end as soon
#                as their condition holds, so only a failing test waits this long, and a
#                slow, busy machine (a process can take seconds to start) does not fail
REPORT = {}     # figures the tests measured, printed at the end of the run (conftest.py)
MOVE_REPLY = {4: "positions", 5: "position"}  # stage: what the server sends after a move
TERMINATOR = b"\0---\0"  # PodSixNet's end-of-message marker
# The lines that carry the server's account: a join or a leave, or the count a second of
# the lines it did not show about one machine (--lines-per-address).
ACCOUNT_LINE = re.compile(r" (joined|left) \(| more lines not shown: .*\(connected \d+")
DROPPED = r"sent .*; dropped$"  # a drop line about a client
DROPS_NOT_SHOWN = r"had \d+ more messages dropped, not shown$"  # its last count, as it leaves
# Test modules that must also pass as a server on Windows runs them set this mark:
# each test then runs twice, its servers waiting with poll() and with Windows' select().
POSIX_AND_WINDOWS = pytest.mark.parametrize("as_windows", [False, True], ids=["poll", "windows"])
WINDOWS_MAX_PLAYERS = 511  # SELECT_LIMIT - 1 in every server.py: 512 sockets, one of them listening
# Every server closes a connection that sends no whole message in its first few seconds
# (--message-seconds). Like game.py, which echoes as soon as it is connected, each test
# client says hello at once with this echo, and keeps the reply out of its inbox.
HELLO = {"action": "echo", "text": "hello"}
HEADLESS = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
            "PYGAME_HIDE_SUPPORT_PROMPT": "1", "PYTHONUNBUFFERED": "1"}


def stage_number(stage):
    """The number of a stage, from its folder's name (or a path to a copy of that folder)."""
    return int(re.match(r"stage(\d+)", Path(stage).name).group(1))


def stages_from(first):
    """The stages that have a capability introduced in stage `first`."""
    return [stage for stage in STAGES if stage_number(stage) >= first]


def encode(message):
    """A message as PodSixNet puts it on the wire."""
    return dumps(message) + TERMINATOR


def decode(buffer):
    """Received bytes as (whole messages, the unfinished rest)."""
    *whole, rest = buffer.split(TERMINATOR)
    return [loads(raw) for raw in whole], rest


def wait_until(condition, what, timeout=TIMEOUT, step=None):
    """Call step() until condition() is true; fail with `what` (or what()) after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for "
                                 f"{what() if callable(what) else what}")
        if step:
            step()
        else:
            time.sleep(0.005)
    return True


def loopback_addresses():
    """127.0.1.1, 127.0.1.2, ...: an address of this machine for each client, as if each were a
    laptop of its own, so that the servers' per-address limits do not bite tests that open many
    connections (Linux routes all of 127.0.0.0/8 here). 127.0.0.x is left to tests of one machine."""
    for number in itertools.count(1 << 8):
        if number & 255 not in (0, 255):
            yield f"127.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"


LOOPBACK = loopback_addresses()


def free_port():
    """A loopback port that nobody listens on."""
    return free_ports(1)[0]


def free_port_and_the_next():
    """A loopback port that nobody listens on, whose next port is free too (make demo's
    lag proxy takes PORT+1): a lone free port's neighbour may be another connection's."""
    while True:
        with socket.socket() as first, socket.socket() as second:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            try:
                second.bind(("127.0.0.1", port + 1))
            except (OSError, OverflowError):  # in use, or past 65535
                continue
            return port


def free_ports(count):
    """`count` different loopback ports that nobody listens on."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()  # so nobody listens there


def cpu_seconds(pid):
    """The CPU time a process has used so far (user and system), from Linux's /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def tcp_connections():
    """This machine's TCP sockets over IPv4, from Linux's /proc/net/tcp: for each, a dict of its
    local and remote address ("127.0.0.1:52311"), its bytes queued to send (or sent, not yet
    acknowledged) and received unread, and its timer (1 a resend, 2 keepalive, 4 a probe of a
    window shut to zero, 0 none)."""
    def address(field):  # "0100007F:CC57": the address in the host's byte order, then the port
        host, port = field.split(":")
        return "%s:%d" % (socket.inet_ntoa(struct.pack("=I", int(host, 16))), int(port, 16))

    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return [{"local": address(local), "remote": address(remote),
             "queued": int(queues.split(":")[0], 16), "unread": int(queues.split(":")[1], 16),
             "timer": int(timer.split(":")[0], 16)}
            for _, local, remote, _, queues, timer, *_ in rows]


def launch(*command, machine=None, env=None):
    """Start `python *command` in the repo root, headless, with its output piped;
    on one of a classroom's machines (a network namespace) if `machine` names one,
    with these environment variables too if `env` names some."""
    on = ["ip", "netns", "exec", machine] if machine else []
    return subprocess.Popen([*on, sys.executable, *map(str, command)], cwd=ROOT,
                            env={**os.environ, **HEADLESS, **(env or {})}, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc, timeout=TIMEOUT):
    """Wait for a launched process; return (exit code, stdout, stderr)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"still running after {timeout} s:\n{out}\n{err}")
    return proc.returncode, out, err


class Reader:
    """Collects the lines a subprocess writes to one pipe, in a thread.

    It also files each line under the client it names first (the server's log
    lines start with the client's address), and keeps the server's last account,
    so that no wait reads the whole output again for each new line: a server
    that logs a lot must not make the tests slow down as they go.
    """

    def __init__(self, pipe):
        self.lines = []
        self.arrived = []  # when each line arrived, on the clock every process shares
        self.about = defaultdict(list)  # "127.0.0.1:50412" -> the lines that start with it
        self.account = {}               # from the last join or leave line
        self._changed = threading.Condition()
        self.ended = threading.Event()  # set once the pipe has closed: every line is in
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe):
        for line in pipe:
            line = line.rstrip("\n")
            with self._changed:
                self.lines.append(line)
                self.arrived.append(time.monotonic())
                self.about[line.split(" ", 1)[0].rstrip(":")].append(line)
                if ACCOUNT_LINE.search(line):
                    self.account = {key: int(number) for key, number in
                                    re.findall(r"(\w+) (\d+)", line.split("(")[-1])}
                self._changed.notify_all()
        self.ended.set()

    def all_lines(self, timeout=TIMEOUT):
        """Every line, once the process has closed its end of the pipe (it has ended)."""
        assert self.ended.wait(timeout), f"the pipe still open after {timeout} s"
        with self._changed:
            return list(self.lines)

    def wait(self, found, what, timeout=TIMEOUT):
        """found(lines) as soon as it is truthy, woken by each new line."""
        with self._changed:
            deadline = time.monotonic() + timeout
            while not (result := found(self.lines)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; the output:\n" +
                                         "\n".join(self.lines[-50:]))
                self._changed.wait(left)
            return result

    def wait_for(self, pattern, timeout=TIMEOUT, after=0):
        """The first match of regex `pattern` in a line numbered `after` or later."""
        seen = [after]  # each line is searched once, however long the wait

        def first_match(lines):
            found = next(filter(None, (re.search(pattern, line) for line in lines[seen[0]:])), None)
            seen[0] = len(lines)
            return found
        return self.wait(first_match, f"a line matching {pattern!r}", timeout)

    def arrival(self, pattern, timeout=TIMEOUT, after=0):
        """When the first line matching regex `pattern` arrived, waiting for it."""
        self.wait_for(pattern, timeout, after)
        with self._changed:
            found = next(n for n in range(after, len(self.lines)) if re.search(pattern, self.lines[n]))
            return self.arrived[found]

    def text(self):
        with self._changed:
            return "\n".join(self.lines)


def command(script, counted=False, as_windows=False, plain_tcp=False, file_limit=None, podsixnet_loop=False,
            turns=False):
    """What to run for a script of the kit's, under tests/run_as.py if options say so."""
    options = ["--counted"] * counted + ["--as-windows"] * as_windows + ["--plain-tcp"] * plain_tcp
    options += ["--podsixnet-loop"] * podsixnet_loop + ["--turns"] * turns
    options += ["--file-limit", file_limit] if file_limit else []
    if not options:
        return [ROOT / script]
    return [ROOT / "tests" / "run_as.py", script, *options, "--"]


def server_command(stage, **options):
    return command(f"{stage}/server.py", **options)


class ServerProcess:
    """A stage's real server.py, listening on a free loopback port.

    The options run it under tests/run_as.py: counted=True counts the
    messages it sends and reports them when it stops (sent_counts());
    as_windows=True gives it Windows' select() and socket options; plain_tcp=True
    leaves it TCP's own timers for a vanished peer; file_limit=N
    lets it open only N files, like a laptop's default 1024; podsixnet_loop=True
    swaps its waiting loop for PodSixNet's own, Pump() and sleep(0.0001);
    turns=True prints the turns its loop has made, on SIGUSR1. view=True runs it
    in tools/classview.py, the class view, instead.
    """

    def __init__(self, stage, *args, port=0, machine=None, env=None, view=False, **options):
        self.stage = stage
        self.stop_signal = signal.SIGINT if options.get("as_windows") else signal.SIGTERM
        run = ([*command("tools/classview.py", **options), "--stage", stage_number(stage)] if view
               else server_command(stage, **options))  # view=True: the stage's server in the class view
        self.proc = launch(*run, "--port", port, *args, machine=machine, env=env)
        self.out, self.err = Reader(self.proc.stdout), Reader(self.proc.stderr)
        self.port = int(self.out.wait_for(r"listening on [\d.]+:(\d+)").group(1))

    def account(self):
        """The server's own account, from the last join or leave line it logged."""
        with self.out._changed:
            return dict(self.out.account)

    def wait_for_account(self, **expected):
        self.out.wait(lambda lines: all(self.out.account.get(k) == v for k, v in expected.items()),
                      f"the server to log {expected}")

    def turns(self):
        """The turns its loop has made so far (started with turns=True)."""
        after = len(self.out.lines)
        self.proc.send_signal(signal.SIGUSR1)
        return int(self.out.wait_for(r"^turns: (\d+)", after=after).group(1))

    def memory_kib(self):
        """The server's resident memory, from /proc."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))

    def wakes(self):
        """How many times the server has slept and been woken so far (Linux's count of
        its voluntary context switches, from /proc)."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", status, re.M).group(1))

    def open_files(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def sent_counts(self):
        """Stop the server; what it sent: {"messages"|"bytes": {client: {action: n}}, "positions"}."""
        assert self.stop() == 0
        return json.loads(self.out.wait_for(r"^sent: (.*)").group(1))

    def stop(self):
        """SIGTERM, like a teacher's `kill` (as on Windows: SIGINT, Ctrl+C); returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
        try:
            return self.proc.wait(TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


class ProxyProcess:
    """tools/lagproxy.py in front of a server: every byte `delay` ms late each way,
    `loss` percent of chunks lost and resent, every message printed if `wire`."""

    def __init__(self, server, delay, jitter=0, as_windows=False, loss=0, wire=False):
        self.stage, self.stop_signal = server.stage, signal.SIGINT if as_windows else signal.SIGTERM
        self.proc = launch(*command("tools/lagproxy.py", as_windows=as_windows), "--listen", 0, "--server",
                           f"127.0.0.1:{server.port}", "--delay", delay, "--jitter", jitter,
                           "--loss", loss, *["--wire"] * wire)
        self.out, self.err = Reader(self.proc.stdout), Reader(self.proc.stderr)
        self.port = int(self.out.wait_for(r"lag proxy on [\d.]+:(\d+)").group(1))

    stop = ServerProcess.stop  # SIGTERM; returns the exit code


class RawClient(EndPoint):
    """A bare PodSixNet client that keeps every message the server sends it."""

    def __init__(self, port, host=None):
        EndPoint.__init__(self, ("127.0.0.1", port), map={})
        self.inbox = []  # every message that crossed the network to us, in order, but our hello's echo
        self.greeted = False
        self.DoConnect(source=host or next(LOOPBACK))
        self.Send(HELLO)

    def DoConnect(self, source):
        """EndPoint.DoConnect, from this client's own address."""
        Channel.__init__(self, map=self._map)
        self.create_socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.socket.bind((source, 0))
        self.connect(self.address)

    def Network(self, message):
        if message == HELLO and not self.greeted:
            self.greeted = True  # the echo of our hello
        else:
            self.inbox.append(message)  # PodSixNet calls this for every message from the wire

    def actions(self):
        return [message["action"] for message in self.inbox]

    def send_now(self, message):
        """Send now: PodSixNet's Send() only queues until the next Pump()."""
        self.Send(message)
        self.pump(wait=0)

    def pump(self, wait=0.01):
        """Send what is queued; then wait up to `wait` seconds for data and read it."""
        self.Pump()
        asyncore.poll2(wait, self._map)

    def wait_for(self, action, count=1):
        """The count-th message with this action, waiting for it to arrive."""
        wait_until(lambda: self.actions().count(action) >= count,
                   f"message {count} of {action!r}; received {self.inbox}", step=self.pump)
        return [m for m in self.inbox if m["action"] == action][count - 1]

    def wait_closed(self):
        wait_until(lambda: not self._map, "the server to close the connection", step=self.pump)

    def echo(self, text="ping"):
        """A full echo round trip: proof that the server still serves this client."""
        count = self.actions().count("echo") + 1
        self.send_now({"action": "echo", "text": text})
        assert self.wait_for("echo", count) == {"action": "echo", "text": text}

    def leave(self):
        self.close()


class WireClient:
    """A client on a plain blocking socket that speaks PodSixNet's wire format itself.

    A thread reads and decodes all the server sends, until stall() stops it,
    as a frozen window would. It connects from `host`, by default an address of
    its own (LOOPBACK), and says hello at once unless told not to (HELLO).
    """

    receive_buffer = None  # SO_RCVBUF, if a test wants a small one

    def __init__(self, server, host=None, hello=True):
        self.server = server
        self.sock = socket.socket()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms waits for an ACK
        if self.receive_buffer:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
        self.sock.bind((host or next(LOOPBACK), 0))  # so that we know our name before the server can log it
        self.name = "%s:%d" % self.sock.getsockname()[:2]  # as the server's log names it
        with server.out._changed:  # its log lines come after these (a port can be used again)
            self.first_line = len(server.out.about[self.name])
        self.sock.connect(("127.0.0.1", server.port))
        self.inbox, self.closed, self._hung_up, self.recv_error = [], False, False, None
        self.greeted = not hello
        self.arrived = []  # when each message in the inbox arrived
        self._reading, self._changed = threading.Event(), threading.Condition()
        self._reading.set()
        threading.Thread(target=self._read, daemon=True).start()
        if hello:
            self.send_message(HELLO)

    def _read(self):
        rest, poller = b"", select.poll()
        poller.register(self.sock, select.POLLIN)
        while self._reading.wait() and not self._hung_up:
            if not poller.poll(50):  # a timeout, so that a hang-up ends the thread
                continue
            try:
                data = self.receive()
            except OSError as error:
                data, self.recv_error = b"", error
            messages, rest = decode(rest + data)
            if not self.greeted and HELLO in messages:
                messages.remove(HELLO)  # the echo of our hello
                self.greeted = True
            with self._changed:
                self.inbox.extend(messages)
                self.arrived.extend([time.monotonic()] * len(messages))
                self.closed = not data
                self._changed.notify_all()
            if not data:
                return

    def receive(self):
        return self.sock.recv(1 << 16)

    def wait(self, found, what):
        """found(inbox) once it is truthy; falsy if the connection closed first."""
        with self._changed:
            if not self._changed.wait_for(lambda: found(self.inbox) or self.closed, TIMEOUT):
                raise AssertionError(f"timed out waiting for {what}; received {self.inbox[-20:]}")
            return found(self.inbox)

    def closed_early(self, what):
        """Why the connection closed before `what`: for a failing test's message."""
        return (f"the connection closed before {what} ({self.recv_error or 'the server hung up'}); "
                f"the server's log about {self.name}: {self.logged('')[-5:]}; received {self.inbox[-5:]}")

    def actions(self):
        with self._changed:
            return [message.get("action") for message in self.inbox]

    def count(self, action):
        return self.actions().count(action)

    def wait_for(self, action, count=1):
        """The count-th message with this action; fails if the server closes first."""
        found = self.wait(lambda inbox: [m for m in inbox if m.get("action") == action][count - 1:],
                          f"message {count} of {action!r}")
        assert found, self.closed_early(repr(action))
        return found[0]

    def wait_closed(self):
        self.wait(lambda inbox: False, "the server to close the connection")

    def tcp_end(self, whose="server"):
        """The server's (or proxy's) end of this connection, or this client's (whose="client"),
        from tcp_connections(); None once it is gone."""
        ours, theirs = ("local", "remote") if whose == "client" else ("remote", "local")
        return next((end for end in tcp_connections() if end[ours] == self.name and
                     end[theirs].endswith(f":{self.server.port}")), None)

    def all_read(self):
        """Whether all this client sent has arrived (been acknowledged) and the server has read it."""
        return self.tcp_end("client")["queued"] == self.tcp_end()["unread"] == 0

    def logged(self, pattern):
        """The server's log lines about this client that match regex `pattern`."""
        found = re.compile(re.escape(self.name) + " " + pattern)
        with self.server.out._changed:
            return [line for line in self.server.out.about[self.name][self.first_line:] if found.search(line)]

    def drops_logged(self):
        """How many of this client's messages the server's log says it dropped.

        The server logs the first drop, then at most one line a second that
        adds how many it did not show, and the rest when the client leaves."""
        total = 0
        for line in self.logged(DROPPED):
            more = re.search(r"\(and (\d+) more not shown\); dropped$", line)
            total += 1 + (int(more.group(1)) if more else 0)
        for line in self.logged(DROPS_NOT_SHOWN):
            total += int(re.search(r"had (\d+) more", line).group(1))
        return total

    def wait_logged(self, pattern, count=1):
        """Wait for the server to log `count` lines about this client matching `pattern`."""
        self.server.out.wait(lambda lines: len(self.logged(pattern)) >= count,
                             f"{count} lines about {self.name} matching {pattern!r}")

    def echo(self, text="ping"):
        """A full echo round trip: everything sent before it has been handled."""
        reply, after = {"action": "echo", "text": text}, len(self.inbox)
        self.send_message(reply)
        assert self.wait(lambda inbox: reply in inbox[after:], f"the echo of {text!r}"), \
            self.closed_early(f"the echo of {text!r}")

    def send_bytes(self, data):
        self.sock.sendall(data)

    def send_message(self, message):
        self.sock.sendall(encode(message))

    def stall(self):
        """Stop reading, like a frozen window: the server's messages pile up unread."""
        self._reading.clear()

    def resume(self):
        """Read again, after stall()."""
        self._reading.set()

    def close(self, reset=False):
        """Hang up; with reset=True abruptly (SO_LINGER 0 sends a TCP reset)."""
        if reset:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._hung_up = True
        try:  # wake the reading thread: the socket really closes only once it lets go
            self.sock.shutdown(socket.SHUT_RD if reset else socket.SHUT_RDWR)
        except OSError:
            pass  # the server hung up first
        self.sock.close()
        self._reading.set()


class Match:
    """Two WireClients in one game (in stage 1, two clients), the first one playing.

    play() is one round: in stages 4 and 5 the first player moves, alternately
    right and left so no wall clamps it, and the other waits to hear of it; in
    stages 1-3 the first player echoes. check() proves that the counts are exact.
    Start one when nobody is waiting, or its first player pairs with them.
    """

    def __init__(self, server):
        self.stage, self.rounds = stage_number(server.stage), 0
        self.players = WireClient(server), WireClient(server)
        self.players[0].wait_for("connected")
        self.start = self.players[0].wait_for("startgame") if self.stage >= 2 else None
        self.reply = MOVE_REPLY.get(self.stage, "echo")

    def round(self, number):
        """What the first player sends in round `number`."""
        if self.stage < 4:
            return {"action": "echo", "text": "ping"}
        return {"action": "move", "gameID": self.start["gameID"], "player": self.start["player"],
                "dx": 4 if number % 2 else -4, "dy": 0}

    def play(self):
        self.rounds += 1
        mover, watcher = self.players
        mover.send_message(self.round(self.rounds))
        if self.stage >= 4:
            watcher.wait_for(self.reply, self.rounds)
        else:
            mover.wait_for("echo", self.rounds)

    def batch(self, count):
        """The next `count` rounds, encoded as one run of bytes."""
        data = b"".join(encode(self.round(self.rounds + number)) for number in range(1, count + 1))
        self.rounds += count
        return data

    def flood(self, count):
        """Send `count` rounds in one go, as fast as the socket takes them, from a thread."""
        sender = threading.Thread(target=self.players[0].send_bytes, args=(self.batch(count),))
        sender.start()
        return sender

    def check(self):
        """Every round was served once, to the right players, and left the mover where it should be."""
        for player in self.players:
            player.echo("check")  # whatever the server sent before this has arrived
        mover, watcher = self.players
        if self.stage < 4:
            assert mover.count("echo") == self.rounds + 1
        elif self.rounds:
            assert watcher.count(self.reply) == self.rounds
            assert mover.count(self.reply) == (self.rounds if self.stage == 4 else 0)
            last = [m for m in watcher.inbox if m["action"] == self.reply][-1]
            x, y = self.start["positions"][0]
            where = last["positions"][0] if self.stage == 4 else [last["x"], last["y"]]
            assert where == [x + 4 * (self.rounds % 2), y]

    def close(self):
        for player in self.players:
            player.close()


def newcomers_pair_at_once(server, connected, games):
    """With nobody waiting: two newcomers are served, from stage 2 paired with each other
    at once, and the server's account agrees. They leave again afterwards."""
    first, second = WireClient(server), WireClient(server)
    try:
        if stage_number(server.stage) == 1:
            for newcomer in (first, second):
                newcomer.echo()
            server.wait_for_account(connected=connected + 2)
        else:
            assert first.wait_for("waiting")  # nobody who has gone was still in the queue
            starts = [newcomer.wait_for("startgame") for newcomer in (first, second)]
            if stage_number(server.stage) >= 3:  # the two are players 0 and 1 of one game
                assert [start["player"] for start in starts] == [0, 1]
                assert starts[0]["gameID"] == starts[1]["gameID"]
            server.wait_for_account(connected=connected + 2, waiting=0, games=games + 1)
    finally:
        first.close()
        second.close()
    queue = {"waiting": 0, "games": games} if stage_number(server.stage) >= 2 else {}
    server.wait_for_account(connected=connected, **queue)


class GameProcess:
    """A stage's real game.py, run headless in its own process by tests/game_driver.py."""

    def __init__(self, stage, port, host="127.0.0.1", machine=None, name="player"):
        self.proc = launch(ROOT / "tests" / "game_driver.py", stage, port, host, name, machine=machine)
        self.replies = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.err = Reader(self.proc.stderr)

    def _read(self):
        for line in self.proc.stdout:
            self.replies.put(json.loads(line))
        self.replies.put(None)

    def command(self, **command):
        self.ask(**command)
        return self.answer(command.get("timeout", 0) + TIMEOUT)

    def ask(self, **command):
        """Send a command and return at once: games asked in turn then run side by side."""
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def answer(self, timeout=TIMEOUT):
        """The reply to the command asked last."""
        try:
            reply = self.replies.get(timeout=timeout)
        except queue.Empty:
            reply = None
        if reply is None or "failed" in reply:
            raise AssertionError(f"game driver: {str(reply)[:2000]} {self.err.text()}")
        return reply

    def frames(self, count=1, keydown=(), keyup=()):
        """Run `count` frames, with these keys pressed or released before the first."""
        return self.command(cmd="frames", count=count, keydown=list(keydown), keyup=list(keyup))

    def until(self, condition, timeout=TIMEOUT):
        """Run frames until `condition`, a Python expression over the snapshot, holds."""
        return self.command(cmd="until", condition=condition, timeout=timeout)

    def snapshot(self):
        """What the game shows now, without running a frame."""
        return self.until("True")

    def screenshot(self, path):
        return self.command(cmd="screenshot", path=str(path))

    def echo(self):
        """Press space and run frames until every echo sent has come back, this one last:
        the server has handled everything this game sent before it, and the game has read
        all it was sent before that (a game reads 4 KiB a frame, so an earlier echo, its
        hello's, may still be on its way). Returns the snapshot then."""
        echoes = self.snapshot()["wire"]["actions"].count("echo")
        self.frames(1, keydown=["space"], keyup=["space"])
        return self.until(f"wire['actions'].count('echo') > {echoes} and "
                          "wire['actions'].count('echo') >= wire['sent_actions'].count('echo')")

    def close_window(self):
        """Close the window as a player would; returns the driver's exit code."""
        reply = self.command(cmd="close")
        self.proc.wait(TIMEOUT)
        return reply

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)

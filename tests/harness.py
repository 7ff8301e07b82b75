"""The test harness: real servers, real PodSixNet clients and real games, over loopback.

  * ServerProcess runs a stage's server.py as a subprocess on a free port and
    keeps every line it prints.
  * RawClient is a PodSixNet EndPoint in this process, for protocol-level tests.
  * GameProcess runs a stage's game.py Game class in its own process (PodSixNet's
    client connection is a module-level singleton, so one game per process),
    driven by tests/game_driver.py.

Everything waits on a condition with a deadline; nothing sleeps blindly.
"""
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from PodSixNet.EndPoint import EndPoint
    from PodSixNet.asyncwrapper import asyncore

ROOT = Path(__file__).resolve().parent.parent
STAGES = sorted((p.name for p in ROOT.glob("stage*_*") if (p / "server.py").exists()),
                key=lambda name: int(re.match(r"stage(\d+)", name).group(1)))
TIMEOUT = 10.0  # seconds any single wait may take before the test fails
REPORT = {}     # figures the tests measured, printed at the end of the run (conftest.py)
MOVE_REPLY = {4: "positions", 5: "position"}  # stage: what the server sends after a move
HEADLESS = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
            "PYGAME_HIDE_SUPPORT_PROMPT": "1", "PYTHONUNBUFFERED": "1"}


def stage_number(stage):
    return int(re.match(r"stage(\d+)", stage).group(1))


def stages_from(first):
    """The stages that have a capability introduced in stage `first`."""
    return [stage for stage in STAGES if stage_number(stage) >= first]


def wait_until(condition, what, timeout=TIMEOUT, step=None):
    """Call step() until condition() is true; fail with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        if step:
            step()
        else:
            time.sleep(0.005)
    return True


def launch(*command):
    """Start `python *command` in the repo root, headless, with its output piped."""
    return subprocess.Popen([sys.executable, *map(str, command)], cwd=ROOT,
                            env={**os.environ, **HEADLESS}, stdin=subprocess.PIPE,
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
    """Collects the lines a subprocess writes to one pipe, in a thread."""

    def __init__(self, pipe):
        self.lines = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe):
        for line in pipe:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, pattern, timeout=TIMEOUT, after=0):
        """The first match of regex `pattern` in a line numbered `after` or later."""
        with self._changed:
            deadline = time.monotonic() + timeout
            while True:
                for line in self.lines[after:]:
                    match = re.search(pattern, line)
                    if match:
                        return match
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no line matching {pattern!r} in {self.lines}")
                self._changed.wait(left)

    def text(self):
        with self._changed:
            return "\n".join(self.lines)


class ServerProcess:
    """A stage's real server.py, listening on a free loopback port.

    With counted=True it runs under tests/counting_server.py, which counts the
    messages the server sends and reports them when it stops (sent_counts()).
    With file_limit=N it may open only N files, like a laptop's default 1024.
    """

    def __init__(self, stage, *args, counted=False, file_limit=None):
        self.stage = stage
        script = [ROOT / "tests" / "counting_server.py", stage] if counted else [ROOT / stage / "server.py"]
        if file_limit:
            script = ["-c", "import resource, runpy, sys; "
                      f"resource.setrlimit(resource.RLIMIT_NOFILE, ({file_limit}, {file_limit})); "
                      f"sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
                      *script]
        self.proc = launch(*script, "--port", 0, *args)
        self.out, self.err = Reader(self.proc.stdout), Reader(self.proc.stderr)
        self.port = int(self.out.wait_for(r"listening on [\d.]+:(\d+)").group(1))

    def account(self):
        """The server's own account, from the last join or leave line it logged."""
        with self.out._changed:
            lines = [line for line in self.out.lines if re.search(r" (joined|left) \(", line)]
        last = lines[-1].split("(")[-1] if lines else ""
        return {key: int(number) for key, number in re.findall(r"(\w+) (\d+)", last)}

    def wait_for_account(self, **expected):
        wait_until(lambda: all(self.account().get(k) == v for k, v in expected.items()),
                   f"the server to log {expected}; its log:\n{self.out.text()}")

    def sent_counts(self):
        """Stop the server; what it sent: {"messages"|"bytes": {client: {action: n}}, "positions"}."""
        assert self.stop() == 0
        return json.loads(self.out.wait_for(r"^sent: (.*)").group(1))

    def stop(self):
        """SIGTERM, like a teacher's `kill`; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


class RawClient(EndPoint):
    """A bare PodSixNet client that keeps every message the server sends it."""

    def __init__(self, port):
        EndPoint.__init__(self, ("127.0.0.1", port), map={})
        self.inbox = []  # every message that crossed the network to us, in order
        self.DoConnect()

    def Network(self, message):
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


class GameProcess:
    """A stage's real game.py, run headless in its own process by tests/game_driver.py."""

    def __init__(self, stage, port):
        self.proc = launch(ROOT / "tests" / "game_driver.py", stage, port)
        self.replies = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.err = Reader(self.proc.stderr)

    def _read(self):
        for line in self.proc.stdout:
            self.replies.put(json.loads(line))
        self.replies.put(None)

    def command(self, **command):
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        try:
            reply = self.replies.get(timeout=command.get("timeout", 0) + TIMEOUT)
        except queue.Empty:
            reply = None
        if reply is None or "failed" in reply:
            raise AssertionError(f"game driver: {reply} {self.err.text()}")
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

    def close_window(self):
        """Close the window as a player would; returns the driver's exit code."""
        reply = self.command(cmd="close")
        self.proc.wait(TIMEOUT)
        return reply

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)

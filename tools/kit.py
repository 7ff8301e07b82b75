r"""The kit's launcher: the same commands on every school machine, nothing to activate.

    python3 tools/kit.py COMMAND      (macOS, Linux)
    py tools\kit.py COMMAND           (Windows)

    demo [--stage N|FOLDER] [--port P] [--lag MS] [--jitter MS] [--loss PCT] [--wire]
                        a stage's server and two game windows (tools/demo.py)
    game --stage N|FOLDER [--host H] [--port P]
                        one stage's game (stageN_*/game.py, or FOLDER/game.py), to join a server
    server --stage N|FOLDER [--host 0.0.0.0] [--port P]
                        one stage's server (stageN_*/server.py, or FOLDER/server.py); 0.0.0.0 serves the class
    bot [--stage N|FOLDER] [--host H] [--port P] [--seed S]
                        a player with no window, for the odd student (tools/bot.py)
    view [--stage N|FOLDER] [--delay MS] [server options]
                        the teacher's class view: the stage's server, and a window
                        that shows the class (tools/classview.py)
                        (FOLDER: a copy of a stage, with its server.py and game.py)
    tag DIR             build the capstone's answer (lesson 10: stage 5 and every tag step)
                        in the new folder DIR, outside the kit, to play with --stage DIR
    diff N              what stage N adds to stage N-1, both files
    check [--host H] [--port P]
                        is this laptop ready? one line per check, then a verdict
    test [ARGS]         the test suite, headless (ARGS go to pytest)
    setup [--offline DIR] [--tests]
                        make .venv and install the kit into it (from a wheelhouse
                        with --offline; with pytest and hypothesis too with --tests)
    wheelhouse DIR [--only-this-machine]
                        gather every wheel the kit runs on, for `setup --offline DIR`

The first command makes .venv in the kit's folder and installs what it needs
(demo: requirements.txt; test: requirements-test.txt too, into the same .venv).
Everything then runs with .venv's own Python, so nothing is ever activated.
This file uses the standard library only, and says every failure in one line.
"""
import argparse
import difflib
import errno
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stages import STAGES, stage_folder

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / "kit-installed.json"  # what has been installed, by each requirements file's digest
PIP_LOG = VENV / "kit-pip.log"       # pip's whole output, when it fails
STUDENT = "requirements.txt"         # what a laptop runs
TESTS = "requirements-test.txt"      # what `test` adds
OLDEST, NEWEST = (3, 9), (3, 14)
DEFAULT_PORT = 31425
HEADLESS = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
TERMINATOR = b"\0---\0"   # PodSixNet's end of a message
ANSWER_WAIT = 5.0         # seconds check waits to connect to a server, and again for its answer


class System:
    """Everything that differs on Windows, chosen here and nowhere else.
    KIT_AS_WINDOWS=1 makes the kit choose Windows' names on another system (for the tests)."""

    def __init__(self, windows, real_windows):
        self.windows = windows
        self.real_windows = real_windows
        self.venv_python = VENV / ("Scripts/python.exe" if windows else "bin/python")
        self.python = "py" if windows else "python3"
        self.sep = "\\" if windows else "/"

    def kit(self, command):
        """How a user types a kit command here."""
        return f"{self.python} tools{self.sep}kit.py {command}"

    def path(self, path):
        """A path as a user here writes it, from the kit's folder where it is inside it."""
        path = Path(path)
        try:
            path = path.relative_to(ROOT)
        except ValueError:
            pass
        return str(path).replace("/", self.sep)

    def colour(self, stream):
        """Whether `stream` shows ANSI colours."""
        if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb" or not stream.isatty():
            return False
        if not self.real_windows:
            return True
        try:  # Windows 10 and later show colours once the console is asked to (virtual terminal mode)
            import ctypes
            kernel32 = ctypes.windll.kernel32
            handle = kernel32.GetStdHandle(-11)  # standard output
            mode = ctypes.c_ulong()
            return bool(kernel32.GetConsoleMode(handle, ctypes.byref(mode)) and
                        kernel32.SetConsoleMode(handle, mode.value | 0x0004))
        except (AttributeError, OSError):
            return False

    def probe_socket(self):
        """A socket that binds a port as the kit's servers do here: on Windows exclusively
        (SO_REUSEADDR there would share a port that is taken), elsewhere with SO_REUSEADDR."""
        probe = socket.socket()
        if self.real_windows:
            probe.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_EXCLUSIVEADDRUSE", -5), 1)
        else:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        return probe

    def pass_on_kill(self, child):
        """A `kill` of the launcher alone stops `child` too. (Windows has no such signal to pass on.)"""
        if not self.real_windows:
            signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signum))

    def port_owner_hint(self, port):
        """How to see which program holds a port, where this system cannot tell the kit."""
        if self.windows:
            return f"netstat -ano | findstr :{port}"
        return f"lsof -nP -iTCP:{port} -sTCP:LISTEN"


SYSTEM = System(windows=os.name == "nt" or os.environ.get("KIT_AS_WINDOWS") == "1", real_windows=os.name == "nt")


class Failure(Exception):
    """A failure the user can act on: said in one line, without a traceback."""


def say(line=""):
    print(line, flush=True)


def seconds(start):
    return f"{time.monotonic() - start:.1f} s"


# The Python that runs this file, and .venv

def python_problem(version):
    """Why this Python cannot run the kit, or None."""
    shown = ".".join(map(str, version[:3]))
    newest = ".".join(map(str, NEWEST))
    run_with = f"py -{newest} tools{SYSTEM.sep}kit.py" if SYSTEM.windows else f"python{newest} tools/kit.py"
    get = (f"Install Python {newest} (Windows, macOS: the installer from python.org; Linux: your "
           f"distribution's python3 packages), then run the kit with it: {run_with} ...")
    if tuple(version[:2]) < OLDEST:
        return f"Python {shown} is too old for the kit, which runs on Python 3.9 to {newest}. {get}"
    if tuple(version[:2]) > NEWEST:
        return (f"Python {shown} is newer than the kit has been tried on (3.9 to {newest}): "
                f"pygame-ce may have no wheel for it yet. {get}")
    return None


def venv_python():
    """.venv's Python, made if there is no .venv yet; a Failure if .venv is broken."""
    python = SYSTEM.venv_python
    if not VENV.exists():
        say(f"Making {SYSTEM.path(VENV)} with Python {sys.version.split()[0]} ...")
        made = subprocess.run([sys.executable, "-m", "venv", str(VENV)], capture_output=True, text=True)
        if made.returncode != 0:
            shutil.rmtree(VENV, ignore_errors=True)
            why = (made.stderr.strip().splitlines() or ["no reason given"])[-1]
            raise Failure(f"This Python could not make .venv ({why}). On Debian or Ubuntu: "
                          "sudo apt install python3-venv; then run this again.")
    broken = f"The .venv folder is broken ({{}}). Make it again with: {SYSTEM.kit('setup')}"
    if not python.exists():
        raise Failure(broken.format(f"it has no {SYSTEM.path(python)}"))
    try:
        ran = subprocess.run([str(python), "-c", "import sys; print(*sys.version_info[:3])"],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Failure(broken.format(f"its Python does not start: {error}"))
    if ran.returncode != 0:
        raise Failure(broken.format(f"its Python does not start: {(ran.stderr.strip().splitlines() or ['?'])[-1]}"))
    problem = python_problem(tuple(int(n) for n in ran.stdout.split()))
    if problem:
        raise Failure(f"The .venv folder was made with another Python. {problem}")
    return python


def digest(name):
    return hashlib.sha256((ROOT / name).read_bytes()).hexdigest()


def installed():
    try:
        return json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return {}


def install(python, names, offline=None):
    """pip install these requirements files into .venv (from the wheelhouse `offline`, with no network)."""
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    for name in names:
        command += ["-r", str(ROOT / name)]
    where = "the package index"
    if offline:
        wheelhouse = Path(offline).resolve()
        constraints = wheelhouse / "constraints.txt"
        if not constraints.exists():
            raise Failure(f"{offline} is no wheelhouse (it has no constraints.txt). Make one on a machine "
                          f"with a network: {SYSTEM.kit('wheelhouse ' + str(offline))}")
        command += ["--no-index", "--find-links", str(wheelhouse), "--constraint", str(constraints)]
        where = str(offline)
    packages = ", ".join(requirement_names(names))
    start = time.monotonic()
    say(f"Installing {packages} into {SYSTEM.path(VENV)} from {where} ...")
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        PIP_LOG.write_text(result.stdout + result.stderr)
        raise Failure(pip_failure(result.stdout + result.stderr, offline))
    stamp = installed()
    stamp.update({name: digest(name) for name in names})
    STAMP.write_text(json.dumps(stamp))
    say(f"Installed in {seconds(start)}.")


def requirement_names(names):
    found = []
    for name in names:
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            since = re.search(r'python_version\s*>=\s*"(\d+)\.(\d+)"', line)
            if since and sys.version_info < (int(since.group(1)), int(since.group(2))):
                continue  # not for this Python (pip decides the same, as it installs)
            if line and not line.startswith("-"):
                found.append(re.split(r"[<>=!~;\s\[]", line, maxsplit=1)[0])
    return found


NO_NETWORK = ("NewConnectionError", "Failed to establish a new connection", "Temporary failure in name resolution",
              "Name or service not known", "Network is unreachable", "No route to host", "ConnectTimeoutError",
              "ReadTimeoutError", "ProxyError", "nodename nor servname", "getaddrinfo failed")


def pip_failure(output, offline):
    """pip's failure, said in one line with what to do."""
    log = SYSTEM.path(PIP_LOG)
    if any(sign in output for sign in NO_NETWORK):
        return (f"pip cannot reach the package index (no network, or one that blocks it; pip's output: {log}). "
                f"Connect to the internet and run this again, or install from a USB stick: "
                f"{SYSTEM.kit('setup --offline DIR')}")
    if "CERTIFICATE_VERIFY_FAILED" in output or "SSLError" in output:
        return (f"pip reached the network but not the package index securely (a school proxy that inspects "
                f"traffic?; pip's output: {log}). Ask for the proxy's certificate, or use "
                f"{SYSTEM.kit('setup --offline DIR')}")
    missing = (re.search(r"No matching distribution found for ([\w.-]+)", output) or
               re.search(r"Cannot install ([\w.-]+)", output))  # with a constraint that no wheel here meets
    version = ".".join(map(str, sys.version_info[:2]))
    if missing and offline:
        return (f"{offline} has no wheel of {missing.group(1)} for Python {version} on this system. Make the "
                f"wheelhouse again on a machine with a network ({SYSTEM.kit('wheelhouse DIR')}), "
                "or use another Python.")
    if missing:
        return (f"The package index has no {missing.group(1)} for Python {version} on this system "
                f"(pip's output: {log}). Use Python 3.9 to {'.'.join(map(str, NEWEST))} from python.org.")
    errors = [line.strip() for line in output.splitlines() if line.startswith("ERROR")]
    return f"pip failed: {(errors or ['see its output'])[-1]} (pip's whole output: {log})"


def ready(tests=False):
    """.venv's Python, with the kit installed in it (and the test tools, if asked)."""
    python = venv_python()
    wanted = [STUDENT] + [TESTS] * tests
    stamp = installed()
    missing = [name for name in wanted if stamp.get(name) != digest(name)]
    if missing:
        install(python, missing)
    return python


def run(command, env=None):
    """Run a program in the kit's folder until it ends; its exit code.
    Ctrl+C in a terminal reaches it too, and it tidies up: wait for it. A `kill` of this
    launcher alone is passed on to it."""
    child = subprocess.Popen([str(part) for part in command], cwd=ROOT, env={**os.environ, **(env or {})})
    SYSTEM.pass_on_kill(child)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue  # the terminal's Ctrl+C reached the child as well: it is stopping


# The commands

def folders_named(options):
    """The options, with a --stage that names a folder (a copy of a stage) made absolute: the
    tools run in the kit's folder, and a folder named from elsewhere is the user's."""
    options = list(options)
    for at in range(len(options) - 1):
        if options[at] == "--stage" and not options[at + 1].isdigit() and stage_folder(options[at + 1]):
            options[at + 1] = str(stage_folder(options[at + 1]))
    return options


def demo(options):
    return run([ready(), ROOT / "tools" / "demo.py", *folders_named(options)])


def stage_program(name, example):
    """`kit.py game` and `kit.py server`: one stage's game.py or server.py, run with .venv's Python."""
    def command(options):
        parser = argparse.ArgumentParser(prog=SYSTEM.kit(name).strip(), description=f"One stage's {name}; "
                                         f"the other options are {name}.py's own ({example}).")
        parser.add_argument("--stage", metavar="N|FOLDER")
        args, rest = parser.parse_known_args(options)
        folder = stage_folder(args.stage) if args.stage else None
        if folder is None:
            folders = stages()
            raise Failure(f"Say which stage, from {min(folders)} to {max(folders)}, or a folder with a server.py "
                          f"and a game.py: {SYSTEM.kit(f'{name} --stage 4 {example}')}")
        if name != "game":
            return run([ready(), folder / f"{name}.py", *rest])
        place, where = window_place()  # held while the game runs
        with place:
            return run([ready(), folder / "game.py", *rest], env={"SDL_VIDEO_WINDOW_POS": where})
    return command


WINDOW_PLACES = ["40,80", "700,80"] + [f"{40 + 40 * n},{110 + 40 * n}" for n in range(1, 9)]  # side by side,
#                then a cascade


def window_place():
    """(an open file, "x,y"): the first place for a game window that no other `kit.py game` on this
    machine holds, so that a second window opens beside the first, not on it. A game holds its
    place by a lock on a file in the temporary folder, which the system lets go when it ends."""
    folder = Path(tempfile.gettempdir()) / "kit-game-windows"
    folder.mkdir(exist_ok=True)
    for number, where in enumerate(WINDOW_PLACES):
        place = open(folder / str(number), "a+")
        try:
            if os.name == "nt":
                import msvcrt
                msvcrt.locking(place.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl
                fcntl.flock(place, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return place, where
        except OSError:
            place.close()  # another game's
    return open(os.devnull), WINDOW_PLACES[-1]


game = stage_program("game", "--host 10.0.0.5")
server = stage_program("server", "--host 0.0.0.0")


def bot(options):
    return run([ready(), ROOT / "tools" / "bot.py", *folders_named(options)])


def view(options):
    return run([ready(), ROOT / "tools" / "classview.py", *folders_named(options)])


def test(options):
    return run([ready(tests=True), "-m", "pytest", *options], env=HEADLESS)


def setup(args):
    if VENV.exists():
        try:
            venv_python()
        except Failure as broken:
            say(f"{broken.args[0].split(' Make it again')[0]} So setup makes it again.")
            shutil.rmtree(VENV)
    start = time.monotonic()
    python = venv_python()
    install(python, [STUDENT] + [TESTS] * args.tests, offline=args.offline)
    say(f"Set up in {seconds(start)}. Next: {SYSTEM.kit('check')}, then {SYSTEM.kit('demo')}")
    return 0


def stages():
    return {number: ROOT / name for number, name in STAGES.items()}


def tag(args):
    """Build the capstone's answer in a new folder: stage 5 with tag-1, tag-2, ... applied in turn."""
    where = Path(args.dir).expanduser().resolve()
    if ROOT.resolve() in (where, *where.parents):
        raise Failure(f"Build it outside the kit's folder, which holds only its stages and tools: "
                      f"{SYSTEM.kit('tag ' + SYSTEM.path(ROOT.parent / 'tag'))}")
    if where.exists() and (not where.is_dir() or any(where.iterdir())):
        raise Failure(f"{args.dir} is already there, and not an empty folder: name a new one.")
    sys.path.insert(0, str(ROOT / "tools"))  # (imported here: only this command needs it)
    from lessonanswers import AnswerError, apply, answers, capstone_steps  # the standard library only
    try:
        found = answers()
        steps = capstone_steps(found)
        if not steps:
            raise AnswerError("no page has its steps, tag-1, tag-2, ...")
        if args.up_to is not None and not 1 <= args.up_to <= len(steps):
            raise Failure(f"--up-to {args.up_to}: the capstone has steps 1 to {len(steps)}.")
        steps = steps[:args.up_to]
        with tempfile.TemporaryDirectory() as scratch:
            for step in steps:
                built = apply(step, scratch, found)
            where.mkdir(parents=True, exist_ok=True)
            for name in ("server.py", "game.py"):
                shutil.copy2(built / name, where / name)
    except AnswerError as error:
        raise Failure(f"The capstone's answer does not build: {str(error).splitlines()[0]}")
    folder = SYSTEM.path(where)
    say(f"Built {folder}: stage 5 with the steps {steps[0]} to {steps[-1]} of lesson 10 applied. Play it: "
        f"{SYSTEM.kit('server --stage ' + folder)}, then twice {SYSTEM.kit('game --stage ' + folder)}, "
        f"or against {SYSTEM.kit('bot --stage ' + folder)}")
    return 0


def diff(args):
    folders = stages()
    later = sorted(folders)[1:]
    if args.stage not in later or args.stage - 1 not in folders:
        raise Failure(f"Say which stage, from {later[0]} to {later[-1]}: {SYSTEM.kit('diff 3')}")
    colours = SYSTEM.colour(sys.stdout)
    paint = {"+": "\033[32m", "-": "\033[31m", "@": "\033[36m"}
    for name in ("server.py", "game.py"):
        before, after = (folders[n] / name for n in (args.stage - 1, args.stage))
        lines = difflib.unified_diff(before.read_text(encoding="utf-8").splitlines(keepends=True),
                                     after.read_text(encoding="utf-8").splitlines(keepends=True),
                                     f"{before.parent.name}/{name}", f"{after.parent.name}/{name}")
        for line in lines:
            line = line if line.endswith("\n") else line + "\n"
            colour = paint.get(line[0]) if colours else None
            if colour and line[:3] in ("+++", "---"):
                colour = "\033[1m"
            sys.stdout.write(f"{colour}{line.rstrip(chr(10))}\033[0m\n" if colour else line)
    sys.stdout.flush()
    return 0


# check: is this laptop ready?

def encode(message):
    """A message of short strings and True as PodSixNet puts it on the wire (rencode: a dict of
    n items is byte 102+n, a string under 64 bytes is byte 128+length, then its bytes; True, 67)."""
    def value(item):
        if item is True:
            return bytes([67])
        data = item.encode("utf-8")
        assert len(data) < 64
        return bytes([128 + len(data)]) + data
    assert len(message) < 25
    return bytes([102 + len(message)]) + b"".join(value(k) + value(v) for k, v in message.items()) + TERMINATOR


GREETING = encode({"action": "connected"})  # what a PodSixNet server sends each new client
ECHO = encode({"action": "echo", "text": "kit check"})  # what a kit server sends back to this hello, which
HELLO = encode({"action": "echo", "text": "kit check", "check": True})  # says it is a check: never paired


UNREACHABLE = {getattr(errno, name) for name in ("EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "WSAEHOSTUNREACH",
                                               "WSAENETUNREACH", "WSAEADDRNOTAVAIL") if hasattr(errno, name)}
IN_USE = {getattr(errno, name) for name in ("EADDRINUSE", "WSAEADDRINUSE") if hasattr(errno, name)}


def answered(received):
    """Whether these bytes are a kit server's greeting, then (after any other messages,
    such as stage 2's "waiting") the echo sent to it."""
    whole = [message + TERMINATOR for message in received.split(TERMINATOR)[:-1]]
    return whole[:1] == [GREETING] and ECHO in whole[1:]


def ask_server(host, port):
    """Connect, send an echo at once (a kit server closes a connection that says nothing
    for 5 s), and read the greeting and the echo. (True, round trip in ms) or (False, what to do)."""
    kit_port = f"{SYSTEM.kit('check --host ' + host)}{'' if port == DEFAULT_PORT else ' --port ' + str(port)}"
    where = f"{host}:{port}"
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        return False, (f"{host} is no address this laptop can find ({error}): check the address the "
                       f"teacher's server printed in its students: line, e.g. 10.0.0.5")
    try:
        connection = socket.create_connection((host, port), timeout=ANSWER_WAIT)
    except ConnectionRefusedError:
        return False, (f"refused at {where}: that machine is there, but no server listens on port {port} for "
                       "other machines. Start the server there with --host 0.0.0.0, and use the same --port.")
    except socket.timeout:
        return False, (f"no answer from {where} in {ANSWER_WAIT:.0f} s: a firewall on the server's machine "
                       "(allow Python on private networks), a wrong address, or a Wi-Fi that keeps laptops "
                       "apart (try another network, or a phone's hotspot).")
    except OSError as error:
        if error.errno in UNREACHABLE:
            return False, (f"{where} cannot be reached from this laptop ({error.strerror}): a wrong address, "
                           "or this laptop is on another network than the server.")
        return False, f"cannot connect to {where} ({error}). Check the address and the network."
    with connection:
        start = time.monotonic()
        try:
            connection.sendall(HELLO)
            received = b""
            while not answered(received) and time.monotonic() - start < ANSWER_WAIT:
                connection.settimeout(max(0.01, ANSWER_WAIT - (time.monotonic() - start)))
                data = connection.recv(4096)
                if not data:
                    break
                received += data
                if not GREETING.startswith(received[:len(GREETING)]):
                    break  # not PodSixNet's greeting: something else listens there
        except socket.timeout:
            pass
        except OSError as error:
            return False, f"{where} broke the connection ({error.strerror}): is it a kit server? Try {kit_port} again."
        rtt = (time.monotonic() - start) * 1000
    if answered(received):
        return True, rtt
    if not received:
        return False, (f"something at {where} took the connection but sent nothing in {ANSWER_WAIT:.0f} s: "
                       f"not a kit server. Check the port: the server prints it as it starts.")
    return False, (f"something at {where} answers, but not as a kit server does: another program has that port. "
                   "Check the port the server printed as it started.")


def port_owner(port):
    """The program that listens on this TCP port, where the system tells (Linux's /proc), or None."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            return None
        for row in rows:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: listening
                inodes.add(f"socket:[{fields[9]}]")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if inodes & {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}:
                line = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                return f"{line.strip()[:80]} (process {pid})"
        except OSError:
            continue
    return None


def port_check(port):
    """(ok, line) for this port on this machine: free, a kit server's, or another program's."""
    probe = SYSTEM.probe_socket()
    try:
        probe.bind(("", port))
        return True, f"port {port} is free for a server"
    except OverflowError:
        return False, f"{port} is no port: use one from 1024 to 65535"
    except OSError as error:
        refusal = error
    finally:
        probe.close()
    kit_server, _ = ask_server("127.0.0.1", port)
    if kit_server:
        return True, f"port {port} is held by a kit server on this machine: fine, games here can join it"
    if refusal.errno not in IN_USE and getattr(refusal, "winerror", None) != 10048:
        return False, f"port {port} cannot be used here ({refusal.strerror}): use another, e.g. --port 31500"
    owner = port_owner(port) if not SYSTEM.windows else None
    owner = f"by {owner}" if owner else f"by another program (to see which: {SYSTEM.port_owner_hint(port)})"
    return False, (f"port {port} is held {owner}, not a kit server. Stop it, or run the server and the "
                   f"games with another port, e.g. --port {port + 1}")


PACKAGES = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
found = {}
def version(name):
    try:
        from importlib.metadata import version as of
        return of(name)
    except Exception:
        return "?"
for package, module in [("PodSixNet", "PodSixNet.Server"), ("pygame-ce", "pygame")] + (
        [("pyasyncore", "asyncore"), ("pyasynchat", "asynchat")] if sys.version_info >= (3, 12) else []):
    try:
        __import__(module)
        found[package] = [True, version(package)]
    except Exception as error:
        found[package] = [False, f"{type(error).__name__}: {error}"]
print(json.dumps(found))
"""

INVISIBLE = ("dummy", "offscreen")  # SDL's drivers that draw to no screen
WINDOW = r"""
import pygame
pygame.display.init()
pygame.display.set_mode((160, 120))
print(pygame.display.get_driver())
pygame.quit()
"""


def marks():
    """The marks for a check that passed and one that failed, as this console can show them."""
    ticks = ("\u2713", "\u2717")
    try:
        "".join(ticks).encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return ("[ok]", "[X]")  # a console that cannot show the ticks (Windows' cp1252, say)
    return ticks


def not_ready(count):
    say(f"Not ready: {count} problem{'s' * (count > 1)} above, each with what to do.")
    return 1


def check(args):
    marks_ = marks()
    problems = []

    def line(ok, text):
        say(f"{marks_[0] if ok else marks_[1]} {text}")
        if not ok:
            problems.append(text)

    fix = SYSTEM.kit("setup")
    line(True, f"Python {sys.version.split()[0]} ({sys.executable})")
    python = None
    if not SYSTEM.venv_python.exists():
        line(False, f"the kit is not installed here yet (no {SYSTEM.path(SYSTEM.venv_python)}): run {fix}")
    else:
        try:
            python = venv_python()
        except Failure as broken:
            line(False, str(broken))
    imports = False
    if python:
        env = {**os.environ, "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
        try:
            ran = subprocess.run([str(python), "-c", PACKAGES], capture_output=True, text=True, timeout=30, env=env)
            found = json.loads(ran.stdout)
        except (OSError, ValueError, subprocess.TimeoutExpired) as error:
            found = {}
            line(False, f"the packages could not be tried ({error}): run {fix}")
        for package, (ok, what) in found.items():
            line(ok, f"{package} {what}" if ok else f"{package} does not import ({what}): run {fix}")
        imports = bool(found) and all(ok for ok, _ in found.values())
    if imports:
        try:
            ran = subprocess.run([str(python), "-c", WINDOW], capture_output=True, text=True, timeout=15, env=env)
            driver = ran.stdout.strip()
            why = (ran.stderr.strip().splitlines() or ["no reason given"])[-1]
        except subprocess.TimeoutExpired:
            driver, why = "", "it did not open in 15 s"
        asked = os.environ.get("SDL_VIDEODRIVER")
        if ran.returncode == 0 and driver in INVISIBLE and asked == driver:
            line(True, f"a pygame window opens (SDL_VIDEODRIVER={driver}: an invisible stand-in, as the tests use)")
        elif ran.returncode == 0 and driver in INVISIBLE:
            line(False, f"no screen: pygame fell back to its invisible '{driver}' window. Run the games on a "
                        "desktop, not over a remote shell")
        elif ran.returncode == 0:
            line(True, f"a pygame window opens ({driver})")
        else:
            line(False, f"no pygame window opens ({why}): run the games on a desktop, not over a remote shell")
    elif python:
        line(False, "no pygame window tried: pygame does not import")
    ok, text = port_check(args.port)
    line(ok, text)
    if args.host:
        ok, answer = ask_server(args.host, args.port)
        if ok:
            line(True, f"the kit server at {args.host}:{args.port} greets this laptop and echoes, "
                       f"round trip {answer:.1f} ms")
        else:
            line(False, answer)
    if problems:
        return not_ready(len(problems))
    say("Ready: this laptop can run the kit" + (f" and reach the server at {args.host}." if args.host else "."))
    return 0


# wheelhouse: every wheel a classroom's laptops run, for setup --offline

PYTHONS = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14"]
PLATFORMS = [  # (what a laptop is, pip's platform tag for it, whether every Python has a wheel there)
    ("Linux x86_64", "manylinux2014_x86_64", True),
    ("Linux aarch64", "manylinux2014_aarch64", True),
    ("Windows amd64", "win_amd64", True),
    ("Windows arm64", "win_arm64", False),  # pygame-ce has these for the newer Pythons only
    ("macOS Intel", "macosx_10_15_x86_64", True),
    ("macOS Apple", "macosx_11_0_arm64", True),
]


def pip_get(python, wheelhouse, *args):
    """pip download, wheels only, no dependencies; the names of the wheels it saved, or a Failure."""
    command = [str(python), "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
               "--only-binary=:all:", "-d", str(wheelhouse), *args]
    result = subprocess.run(command, capture_output=True, text=True)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        if "No matching distribution found" in output and not any(s in output for s in NO_NETWORK):
            return []
        PIP_LOG.write_text(output)
        raise Failure(pip_failure(output, None))
    return [Path(saved).name for saved in re.findall(r"(?:Saved|File was already downloaded) (\S+)", output)]


def wheel_version(name):
    return name.split("-")[1]


def wheelhouse(args):
    python = ready()
    house = Path(args.dir).resolve()
    house.mkdir(parents=True, exist_ok=True)
    begun = time.monotonic()
    requirements = {}
    for line in (ROOT / STUDENT).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirements[re.split(r"[<>=!~;\s]", line, maxsplit=1)[0]] = line.split(";")[0].strip()
    pins = []
    start = time.monotonic()
    built = subprocess.run([str(python), "-m", "pip", "wheel", "--disable-pip-version-check", "--no-deps",
                            "--use-pep517",  # an isolated build, with its own setuptools and wheel
                            "-w", str(house), requirements["PodSixNet"]], capture_output=True, text=True)
    if built.returncode != 0:
        PIP_LOG.write_text(built.stdout + built.stderr)
        raise Failure(pip_failure(built.stdout + built.stderr, None))
    podsixnet = requirements["PodSixNet"].split("==")[1]
    pins.append(f"PodSixNet=={podsixnet}")
    say(f"PodSixNet {podsixnet}: a wheel built from its source, in {seconds(start)}")
    start = time.monotonic()
    for backport in ("pyasyncore", "pyasynchat"):
        saved = pip_get(python, house, "--python-version", "3.12", backport)
        if not saved:
            raise Failure(f"The package index has no wheel of {backport}: the wheelhouse would not work on 3.12+.")
        pins.append(f'{backport}=={wheel_version(saved[0])}; python_version >= "3.12"')
    say(f"pyasyncore and pyasynchat (Python 3.12 and later): in {seconds(start)}")
    missing = []
    if args.only_this_machine:
        start = time.monotonic()
        saved = pip_get(python, house, requirements["pygame-ce"])
        if not saved:
            raise Failure("The package index has no pygame-ce wheel for this machine's Python.")
        version = subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                 capture_output=True, text=True).stdout.strip()
        pins.append(f'pygame-ce=={wheel_version(saved[0])}; python_version == "{version}"')
        say(f"pygame-ce {wheel_version(saved[0])} for this machine only (Python {version}): in {seconds(start)}")
    else:
        for version in PYTHONS:
            start = time.monotonic()
            common = ["--python-version", version, "--implementation", "cp"]
            got = {}
            for kind, tag, everywhere in PLATFORMS:
                pin = requirements["pygame-ce"] if not got else f"pygame-ce=={wheel_version(next(iter(got.values())))}"
                saved = pip_get(python, house, *common, "--platform", tag, pin)
                if saved:
                    got[kind] = saved[0]
                elif everywhere:
                    missing.append(f"{kind}, Python {version}")
            if not got:
                raise Failure(f"The package index has no pygame-ce wheel for Python {version} at all.")
            chosen = wheel_version(next(iter(got.values())))
            pins.append(f'pygame-ce=={chosen}; python_version == "{version}"')
            say(f"pygame-ce {chosen} for Python {version}: {', '.join(got)}: in {seconds(start)}")
    (house / "constraints.txt").write_text(
        "# One version of each package, so that every laptop installed from here runs the same kit.\n"
        + "\n".join(pins) + "\n")
    fits = (f"laptops like the one it was made on only (Python {version}, this system): it was made with\n"
            "--only-this-machine" if args.only_this_machine else "Windows, macOS and Linux laptops")
    (house / "README.txt").write_text(
        "A wheelhouse for the PodSixNet + pygame classroom kit: every package it runs, for\n"
        f"{fits}, with no network. Copy this folder to a USB stick; on\n"
        "each laptop, with Python installed (it is not in here), in the kit's folder:\n\n"
        "    python3 tools/kit.py setup --offline PATH-TO-THIS-FOLDER      (macOS, Linux)\n"
        "    py tools\\kit.py setup --offline PATH-TO-THIS-FOLDER           (Windows)\n")
    size = sum(path.stat().st_size for path in house.iterdir() if path.is_file())
    count = len(list(house.glob("*.whl")))
    for gap in missing:
        say(f"No pygame-ce wheel for {gap}: such a laptop needs the network, or another Python.")
    say(f"Wheelhouse {SYSTEM.path(house)}: {count} wheels, {size / 2**20:.0f} MiB, in {seconds(begun)}. "
        f"On each laptop: {SYSTEM.kit('setup --offline ' + SYSTEM.path(house))}")
    return 0


def main(argv):
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")  # a console that cannot show a character gets a '?'
    problem = python_problem(sys.version_info)
    if problem and argv[:1] == ["check"]:
        say(f"{marks()[1]} {problem}")
        return not_ready(1)
    if problem:
        raise Failure(problem)
    if argv[:1] == ["demo"]:
        return demo(argv[1:])  # its options are tools/demo.py's own
    if argv[:1] == ["bot"]:
        return bot(argv[1:])  # and these are tools/bot.py's
    if argv[:1] == ["view"]:
        return view(argv[1:])  # and these are tools/classview.py's
    if argv[:1] == ["test"]:
        return test(argv[1:])  # and these are pytest's
    if argv[:1] == ["game"]:
        return game(argv[1:])  # --stage, then game.py's own options
    if argv[:1] == ["server"]:
        return server(argv[1:])  # --stage, then server.py's own options
    parser = argparse.ArgumentParser(prog=SYSTEM.kit("").strip(), description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n")[-1])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("demo", help="a stage's server and two game windows (tools/demo.py's options)")
    commands.add_parser("bot", help="a player with no window, for the odd student (tools/bot.py's options)")
    commands.add_parser("view", help="the class view: a stage's server and a window of the class "
                                     "(tools/classview.py's options)")
    commands.add_parser("test", help="the test suite, headless (pytest's options)")
    commands.add_parser("game", help="one stage's game: --stage N (or a stage's copy: --stage FOLDER), "
                                     "then game.py's options (--host H)")
    commands.add_parser("server", help="one stage's server: --stage N (or --stage FOLDER), then server.py's "
                                       "options (--host 0.0.0.0 for a class)")
    command = commands.add_parser("tag", help="build the capstone's answer, stage 5 and every tag step of "
                                              "lesson 10, in the new folder DIR")
    command.add_argument("dir", metavar="DIR")
    command.add_argument("--up-to", type=int, metavar="N", help="only its steps 1 to N (the short route: 4)")
    command = commands.add_parser("diff", help="what stage N adds to stage N-1")
    command.add_argument("stage", type=int, nargs="?", metavar="N")
    command = commands.add_parser("check", help="is this laptop ready?")
    command.add_argument("--host", help="the teacher's server to try, as its students: line gives it")
    command.add_argument("--port", type=int, default=DEFAULT_PORT)
    command = commands.add_parser("setup", help="make .venv and install the kit into it")
    command.add_argument("--offline", metavar="DIR", help="install from this wheelhouse, with no network")
    command.add_argument("--tests", action="store_true", help="pytest and hypothesis too")
    command = commands.add_parser("wheelhouse", help="gather every wheel the kit runs on, for setup --offline")
    command.add_argument("dir", metavar="DIR")
    command.add_argument("--only-this-machine", action="store_true",
                         help="just this machine's Python and system (quicker; for a test)")
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    return {"diff": diff, "check": check, "setup": setup, "wheelhouse": wheelhouse, "tag": tag}[args.command](args)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Failure as failure:
        print(f"kit: {failure}", file=sys.stderr, flush=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:  # `kit.py diff 3 | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except OSError as error:  # a folder that cannot be written (a USB stick locked, or full), say
        print(f"kit: {error}", file=sys.stderr, flush=True)
        sys.exit(1)

"""Fixtures that start real servers, clients and games, and clean up after each test."""
import os
import signal

import pytest

from classroom import Classroom, remove_leftovers, unavailable
from harness import HEADLESS, REPORT, GameProcess, ProxyProcess, RawClient, ServerProcess, stage_number

os.environ.update(HEADLESS)  # no window, no sound, on any machine
# A suite started in the background (`make test &`) inherits an ignored SIGINT, and so
# would every program it starts; but the tests press Ctrl+C as a student does (and as
# Windows stops a server), so give the default back, for them to inherit instead.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def as_windows():
    """Whether servers run as on Windows (no poll(), select() of 512 sockets). No,
    unless a test module marks itself POSIX_AND_WINDOWS, which runs it both ways."""
    return False


@pytest.fixture
def start_server(as_windows):
    """start_server(stage) -> a running ServerProcess; each must stop cleanly afterwards."""
    servers = []

    def start(stage, *args, **options):
        servers.append(ServerProcess(stage, *args, as_windows=as_windows, **options))
        return servers[-1]

    yield start
    for server in servers:
        code = server.stop()
        assert code == 0, f"{server.stage} server exited with {code}:\n{server.err.text()}"
        assert "Traceback" not in server.err.text(), server.err.text()


@pytest.fixture
def start_proxy(as_windows):
    """start_proxy(server, delay, jitter=0, loss=0, wire=False) -> a running ProxyProcess;
    each must stop cleanly."""
    proxies = []

    def start(server, delay, jitter=0, **options):
        proxies.append(ProxyProcess(server, delay, jitter, as_windows, **options))
        return proxies[-1]

    yield start
    for proxy in proxies:
        assert proxy.stop() == 0, proxy.err.text()
        assert "Traceback" not in proxy.err.text(), proxy.err.text()
        proxy.out.wait_for("lag proxy stopped")


@pytest.fixture
def connect():
    """connect(port) -> a RawClient that has had its "connected" greeting."""
    clients = []

    def open_client(port):
        clients.append(RawClient(port))
        clients[-1].wait_for("connected")
        return clients[-1]

    yield open_client
    for client in clients:
        client.close()


@pytest.fixture
def connect_pair(connect):
    """connect_pair(server) -> two RawClients; from stage 2 on, both in a started game."""

    def open_pair(server):
        pair = connect(server.port), connect(server.port)
        if stage_number(server.stage) >= 2:
            for client in pair:
                client.wait_for("startgame")
        return pair

    return open_pair


@pytest.fixture
def start_game():
    """start_game(stage, port, host=..., machine=...) -> a GameProcess running that
    stage's real game.py; on a classroom's machine if `machine` names one."""
    games = []

    def start(stage, port, **where):
        games.append(GameProcess(stage, port, **where))
        return games[-1]

    yield start
    for game in games:
        game.kill()
        assert "Traceback" not in game.err.text(), game.err.text()


@pytest.fixture
def start_two_games(start_game):
    """start_two_games(stage, port) -> the games of player 0 and player 1, both in a game."""

    def start(stage, port):
        first = start_game(stage, port)
        first.until("state == 'waiting for an opponent'")
        second = start_game(stage, port)
        first.until("state.startswith('in game')")
        second.until("state.startswith('in game')")
        return first, second

    return start


@pytest.fixture
def classroom():
    """classroom(laptops) -> a Classroom of real hosts (tests/classroom.py), removed
    afterwards whatever happens. Skips the test where namespaces cannot be made."""
    why = unavailable()
    if why:
        pytest.skip(why)
    remove_leftovers()
    rooms = []

    def build(laptops=1):
        rooms.append(Classroom(laptops))
        return rooms[-1]

    yield build
    for room in rooms:
        room.close()


def pytest_terminal_summary(terminalreporter):
    """Print the figures the tests measured, for a teacher to quote."""
    write = terminalreporter.write_line
    relay = REPORT.get("relay", {})
    if relay:
        terminalreporter.section("messages per move, measured in the scripted match")
        write(f"{'stage':<18}{'moves':>6}{'sent/move':>11}{'bytes/move':>12}"
              f"{'to mover':>10}{'to opponent':>13}")
        for stage, row in sorted(relay.items()):
            write(f"{stage:<18}{row['moves']:>6}{row['messages']:>11.2f}{row['bytes']:>12.1f}"
                  f"{row['to mover']:>10.2f}{row['to opponent']:>13.2f}")
        if len(relay) > 1:
            first, last = (relay[stage] for stage in (min(relay), max(relay)))
            write(f"{max(relay)} / {min(relay)}: messages x{last['messages'] / first['messages']:.2f}, "
                  f"bytes x{last['bytes'] / first['bytes']:.2f}")
    idle = REPORT.get("idle_cpu", {})
    if idle:
        terminalreporter.section("idle server CPU, share of one core over 1 s")
        width = max(map(len, idle)) + 1
        for stage, share in sorted(idle.items()):
            write(f"{stage:<{width}}{share:>7.1%}")
    fuzz = REPORT.get("fuzz", {})
    if fuzz:
        terminalreporter.section("fuzz: what the server did with the random input")
        columns = ["inputs", "messages", "echoed", "moved", "dropped", "closed"]
        write(f"{'input':<15}{'stage':<18}" + "".join(f"{column:>10}" for column in columns))
        for (kind, stage), totals in sorted(fuzz.items()):
            write(f"{kind:<15}{stage:<18}" + "".join(f"{totals.get(column, 0):>10}" for column in columns))
    limits = [(REPORT.get(key, {}), title) for key, title in [
        ("junk", "server memory grown after 5 clients sent 8 MiB each with no end marker (KiB)"),
        ("churn", "server memory grown over 1800 comings and goings, after 200 to warm up (KiB)"),
        ("stalled", "moves sent before the server cut a player who stopped reading"),
        ("flood", "the other game's round under a 50000-round flood: median, worst (ms), flood heard"),
        ("drops", "a flood of messages the server drops: messages, log lines, seconds"),
        ("lag", "through tools/lagproxy.py: echo round trip median, min, max; or own move, opponent (ms)"),
        ("head of line", "through tools/lagproxy.py --loss: what a lost chunk holds back"),
        ("vanishing", "a machine vanished from the classroom network: seconds until it was noticed")]]
    for figures, title in limits:
        if figures:
            terminalreporter.section(title)
            names = {key: " ".join(key) if isinstance(key, tuple) else key for key in figures}
            width = max(48, *(len(name) + 2 for name in names.values()))
            for key, value in sorted(figures.items()):
                name = names[key]
                shown = " ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in
                                 (value if isinstance(value, tuple) else (value,)))
                write(f"{name:<{width}}{shown}")

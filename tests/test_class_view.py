"""The class view, tools/classview.py: the stage's own server.py, with a window for the projector.

The same scripted class runs against a stage's server.py and against the view of that
stage, and both must serve and log alike. The view's window runs headless (SDL's dummy
driver) and writes what it shows to a file (--state), which these tests read.
"""
import json
import os
import re
import signal
import socket
import time
from pathlib import Path

import pytest

from classroom import TEACHER
from harness import (HELLO, LOOPBACK, MOVE_REPLY, POSIX_AND_WINDOWS, REPORT, STAGES, TIMEOUT, Match, Reader,
                     WireClient,
                     encode, launch, newcomers_pair_at_once, stage_number, stages_from, tcp_connections, wait_until)
from test_idle_cpu import idle_share

MOVES = 12  # rounds of moves in the scripted class


def shown(path, what, condition):
    """The window's state (what it shows) once condition(state) holds."""
    found = {}

    def read():
        try:
            found["state"] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False  # not written yet
        return condition(found["state"])
    wait_until(read, lambda: f"the class view to show {what}; it shows {found.get('state')}")
    return found["state"]


def command_line(pid):
    """A process's command line, as any program on the machine can read it (`ps` shows it)."""
    return Path(f"/proc/{pid}/cmdline").read_text().split("\0")[:-1]


def feed_port(pid):
    """The port of the feed, from the window's command line: where any program can find it."""
    arguments = command_line(pid)
    return int(arguments[arguments.index("--feed") + 1])


def window_stopped_before_it_connects(server):
    """The view's window process, found as it starts and stopped (SIGSTOP) before it connects to
    its feed: its pid. It is still starting Python and pygame when it appears, so this wins."""
    found = []

    def started():
        for entry in Path("/proc").iterdir():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if parent == server.proc.pid and "--window" in command_line(entry.name):
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue  # not a process, or one that has gone
        return found
    wait_until(started, "the class view to start its window", step=lambda: time.sleep(0.001))
    os.kill(found[0], signal.SIGSTOP)
    feed = f"127.0.0.1:{feed_port(found[0])}"
    assert not any(end["local"] == feed and end["remote"] != "0.0.0.0:0" for end in tcp_connections()), \
        "the window connected before it could be stopped"
    return found[0]


def heard(sock, port):
    """Whether the server has read all this connection to its feed sent, or closed it."""
    name = "%s:%d" % sock.getsockname()[:2]
    end = next((end for end in tcp_connections() if end["remote"] == name and end["local"].endswith(f":{port}")),
               None)
    return end is None or end["unread"] == 0


def press(state, **command):
    """Make the view's window send this to the server as its keys do (PATH.ask), and wait until it has."""
    asked = Path(f"{state}.ask")
    Path(f"{asked}.tmp").write_text(json.dumps(command), encoding="utf-8")
    os.replace(f"{asked}.tmp", asked)
    wait_until(lambda: not asked.exists(), f"the window to send {command}")


def student(state, name):
    return next(s for s in state["students"] if s["address"] == name)


def move(start, number):
    return {"action": "move", "gameID": start["gameID"], "player": start["player"],
            "dx": 4 if number % 2 else -4, "dy": 0}


def scripted_class(server):
    """Two students join, pair, one sends an action that does not exist and (stages 4, 5) moves,
    then both leave. Returns the server's log as (names replaced) lines, and what each received."""
    stage = stage_number(server.stage)
    first = WireClient(server)
    first.wait_for("connected")
    first.echo()
    second = WireClient(server)
    second.wait_for("connected")
    second.echo()
    if stage >= 2:
        start = first.wait_for("startgame")
        second.wait_for("startgame")
    first.send_message({"action": "nonsense"})
    first.wait_logged(r"sent .*: no such action; dropped$")
    if stage >= 4:
        for number in range(1, MOVES + 1):
            first.send_message(move(start, number))
            second.wait_for(MOVE_REPLY[stage], number)
    second.echo()  # all the server sent it has been read: it hangs up with nothing unread
    second.close()
    server.wait_for_account(connected=1)
    if stage >= 2:  # back in the queue
        first.wait_for("opponentleft")
        first.wait_for("waiting", 2)
    first.echo()
    first.close()
    server.wait_for_account(connected=0)
    names = {first.name: "FIRST", second.name: "SECOND", f":{server.port} ": ":PORT "}
    lines = []
    for line in server.out.lines:
        for name, alias in names.items():
            line = line.replace(name, alias)
        if not line.startswith("class view:"):
            lines.append(line)
    return lines, first.inbox, second.inbox


@POSIX_AND_WINDOWS  # the server waits with poll(), and as on Windows with select()
@pytest.mark.parametrize("stage", STAGES)
def test_the_view_serves_and_logs_as_the_stages_server_does(stage, start_server, tmp_path):
    alone = scripted_class(start_server(stage))
    viewed = start_server(stage, "--state", tmp_path / "view.json", view=True)
    assert scripted_class(viewed) == alone
    shown(tmp_path / "view.json", "the class gone", lambda state: state["totals"]["connected"] == 0)


@pytest.mark.parametrize("stage", stages_from(4))
def test_through_the_view_a_move_costs_the_stages_messages_counted_at_the_wire(stage, start_server):
    server = start_server(stage, counted=True, view=True)
    match = Match(server)
    for _ in range(MOVES):
        match.play()
    match.check()  # each move told the players the stage tells, exactly once
    reply = MOVE_REPLY[stage_number(stage)]
    sent = server.sent_counts()["messages"]
    per_move = sum(to.get(reply, 0) for to in sent.values()) / MOVES
    assert per_move == {4: 2.0, 5: 1.0}[stage_number(stage)]


@pytest.mark.parametrize("how, delay", [(signal.SIGTERM, 0), (signal.SIGKILL, 0), (signal.SIGTERM, 200)],
                         ids=["closed", "killed", "closed-with-a-delay"])
def test_the_window_going_does_not_stop_the_serving(how, delay, start_server, tmp_path):
    state = tmp_path / "view.json"
    server = start_server("stage4_relay", "--state", state, "--delay", delay, view=True)
    window = shown(state, "its window", lambda state: state.get("window"))["window"]
    os.kill(window["pid"], how)
    ended = ", with no delay" if delay else ""  # the switch is in the window: it goes with it
    server.out.wait_for(f"^class view: the window has closed; the server serves on{ended} \\(Ctrl\\+C stops it\\)$")
    newcomers_pair_at_once(server, connected=0, games=0)


def test_a_frozen_window_never_holds_up_the_serving(start_server, tmp_path):
    # On Windows, dragging a window stops its loop: here the window's process is stopped.
    state = tmp_path / "view.json"
    server = start_server("stage4_relay", "--state", state, view=True)
    window = shown(state, "its window", lambda state: state.get("window"))["window"]
    feed = feed_port(window["pid"])
    others = [WireClient(server) for _ in range(6)]  # more to show: bigger snapshots, a feed full sooner
    os.kill(window["pid"], signal.SIGSTOP)
    try:
        # The server's end of the feed holds what the stopped window has not taken: the feed is full.
        wait_until(lambda: any(end["local"] == f"127.0.0.1:{feed}" and end["queued"] for end in tcp_connections()),
                   "the feed to the stopped window to fill")
        match = Match(server)
        for _ in range(MOVES):
            match.play()
        match.check()  # served in full, the window still stopped
    finally:
        os.kill(window["pid"], signal.SIGCONT)
    mover = match.players[0].name
    shown(state, "the match, once the window runs again",
          lambda state: any(s["address"] == mover and s["in"] == MOVES + 2 for s in state["students"]))
    for other in others:
        other.close()


def test_a_flood_shows_beside_the_student_who_sends_it(start_server, tmp_path):
    state = tmp_path / "view.json"
    server = start_server("stage4_relay", "--state", state, view=True)
    calm, flooding = Match(server), Match(server)
    flooder = flooding.players[0]
    for _ in range(5):
        calm.play()
    # Moves that name the opponent's player number: each is dropped.
    cheat = dict(move(flooding.start, 1), player=1 - flooding.start["player"])
    flood = 3000
    flooder.send_bytes(b"".join([encode(cheat)] * flood))

    def flood_shown(state):  # many messages a second, past a game's 60, and drops beside them
        seen = student(state, flooder.name)
        return seen["in_per_s"] > 100 and seen["dropped"]
    seen = shown(state, "the flooder's messages a second and drops", flood_shown)
    assert [s["address"] for s in seen["students"] if s["dropped"]] == [flooder.name]
    flooder.echo()  # the server has read the whole flood
    seen = shown(state, "every drop", lambda state: student(state, flooder.name)["dropped"] == flood)
    assert seen["totals"]["dropped"] == flood
    assert not any(student(seen, player.name)["dropped"] for player in calm.players)
    calm.check()  # the calm game was served throughout


@pytest.mark.parametrize("stage", stages_from(4))
def test_a_classroom_of_three_pairs_shows_three_games_where_they_really_are(stage, classroom, start_server,
                                                                           start_game, tmp_path):
    room = classroom(laptops=6)
    state = tmp_path / "view.json"
    server = start_server(stage, "--host", "0.0.0.0", "--state", state, view=True, machine=room.teacher)
    server.out.wait_for(rf"^students: python3 tools/kit.py game --stage {stage_number(stage)} --host {TEACHER} ")
    games = []
    for pair in range(3):
        first = start_game(stage, server.port, host=TEACHER, machine=room.laptops[2 * pair])
        first.until("state == 'waiting for an opponent'")
        second = start_game(stage, server.port, host=TEACHER, machine=room.laptops[2 * pair + 1])
        first.until("state.startswith('in game')")
        second.until("state.startswith('in game')")
        games += [first, second]
    for game, keys in zip(games, (["right"], ["left", "up"], ["down"], ["up"], ["left"], ["right", "down"])):
        game.ask(cmd="frames", count=20 + 5 * games.index(game), keydown=keys, keyup=[])
    for game in games:
        game.answer()
    for game in games:
        game.frames(1, keyup=["left", "right", "up", "down"])
    for game in games * 2:
        game.echo()  # twice round: every move has reached the server, and its news the players
    reported = {}
    for game in games:
        snapshot = game.snapshot()
        reported.setdefault(snapshot["game_id"], []).append(snapshot["positions"])
    assert all(first == second for first, second in reported.values())  # both players see one game
    seen = shown(state, f"three games at {reported}",
                 lambda state: {g["id"]: g["positions"] for g in state["games"]} ==
                 {number: positions[0] for number, positions in reported.items()})
    laptops = {room.address(laptop) for laptop in room.laptops}
    assert {s["address"].split(":")[0] for s in seen["students"]} == laptops
    assert all(s["doing"] == "playing" for s in seen["students"]) and seen["window"]["panels"] == 3


@POSIX_AND_WINDOWS  # the server's loop wakes in time for a held message, with poll() and select()
def test_the_delay_switch_holds_everything_the_server_sends_and_keeps_its_order(start_server):
    server = start_server("stage5_optimized", "--delay", 200, view=True)
    server.out.wait_for("^class view: .*everything the server sends is held 200 ms")
    client = WireClient(server)
    client.wait_for("connected")
    sent_at, texts = time.monotonic(), [str(number) for number in range(5)]
    for text in texts:
        client.send_message({"action": "echo", "text": text})
    client.wait_for("echo", len(texts))
    echoes = [n for n, message in enumerate(client.inbox) if message["action"] == "echo"]
    assert [client.inbox[n]["text"] for n in echoes] == texts
    assert all(client.arrived[n] - sent_at >= 0.2 for n in echoes)  # a lower bound: no machine is that fast


def test_with_the_switch_turned_off_nothing_overtakes_what_is_still_held(start_server, tmp_path):
    # The switch is in the window: closing the window turns the delay off, 1 s of it still held.
    state = tmp_path / "view.json"
    server = start_server("stage5_optimized", "--delay", 1000, "--state", state, view=True)
    window = shown(state, "its window", lambda state: state.get("window"))["window"]
    client = WireClient(server)
    texts = [str(number) for number in range(5)]
    for text in texts:
        client.send_message({"action": "echo", "text": text})
    wait_until(client.all_read, "the server to read the echoes, whose answers it holds")
    os.kill(window["pid"], signal.SIGKILL)
    server.out.wait_for("^class view: the window has closed; the server serves on, with no delay")
    client.send_message({"action": "echo", "text": "after"})
    client.wait_for("echo", len(texts) + 1)
    assert [message["text"] for message in client.inbox if message["action"] == "echo"] == texts + ["after"]


def test_the_view_counts_the_messages_and_bytes_each_way(start_server, tmp_path):
    state = tmp_path / "view.json"
    server = start_server("stage1_echo", "--state", state, view=True)
    client = WireClient(server)
    echoes = [{"action": "echo", "text": "x" * size} for size in (1, 10, 100)]
    for echo in echoes:
        client.echo(echo["text"])
    sent, received = [HELLO, *echoes], [{"action": "connected"}, HELLO, *echoes]
    seen = shown(state, "every echo", lambda state: any(
        s["address"] == client.name and s["out"] == len(received) for s in state["students"]))
    counts = student(seen, client.name)
    assert (counts["in"], counts["in_bytes"]) == (len(sent), sum(map(len, map(encode, sent))))
    assert (counts["out"], counts["out_bytes"]) == (len(received), sum(map(len, map(encode, received))))


def test_a_student_who_leaves_keeps_their_counts_in_the_totals(start_server, tmp_path):
    state = tmp_path / "view.json"
    server = start_server("stage1_echo", "--state", state, view=True)
    leaving, staying = WireClient(server), WireClient(server)
    for client in (leaving, staying):
        client.echo()
    leaving.send_message({"action": "nonsense"})
    leaving.wait_logged(r"sent .*: no such action; dropped$")
    leaving.echo()
    # In: 2 hellos, 3 echoes and the nonsense; out: 2 greetings, 2 hellos and 3 echoes.
    before = shown(state, "everything sent", lambda state: (state["totals"]["in"], state["totals"]["out"]) == (6, 7))
    leaving.close()
    after = shown(state, "one student gone", lambda state: state["totals"]["connected"] == 1)
    kept = ("in", "in_bytes", "out", "out_bytes", "dropped")
    assert {name: after["totals"][name] for name in kept} == {name: before["totals"][name] for name in kept}
    assert after["totals"]["dropped"] == 1


@pytest.mark.parametrize("stage", stages_from(4))
def test_with_the_delay_stage_4_is_sluggish_and_stage_5_instant_for_the_mover(stage, start_server,
                                                                               start_two_games):
    server = start_server(stage, "--delay", 200, view=True)
    first, _ = start_two_games(stage, server.port)
    before = first.snapshot()["positions"][first.snapshot()["number"]]
    after = first.frames(1, keydown=["right"])  # one frame, one move
    first.frames(1, keyup=["right"])
    moved = after["positions"][after["number"]] != before
    assert moved == (stage_number(stage) == 5)  # stage 4 waits for the server's word, 200 ms away
    first.until(f"positions[number] != {before}")  # and then moves


def test_the_idle_view_uses_almost_no_cpu(start_server, connect, tmp_path):
    """It wakes 15 times a second to offer its window a snapshot: still almost nothing (each
    idle server.py, tests/test_idle_cpu.py: under 5% of a core)."""
    state = tmp_path / "view.json"
    server = start_server("stage5_optimized", "--state", state, view=True)
    players = [connect(server.port), connect(server.port)]
    shown(state, "the two players", lambda state: state["totals"]["connected"] == 2)
    share = idle_share(server, players)
    REPORT.setdefault("idle_cpu", {})["stage5_optimized in the class view"] = share
    assert share < 0.05


def test_kit_view_runs_the_class_view(tmp_path):
    state = tmp_path / "view.json"
    view = launch("tools/kit.py", "view", "--stage", 2, "--port", 0, "--state", state)
    out, err = Reader(view.stdout), Reader(view.stderr)
    try:
        port = int(out.wait_for(r"^stage 2: queue server listening on 127\.0\.0\.1:(\d+)").group(1))
        assert shown(state, "stage 2", lambda state: state["stage_number"] == 2)["listening"].endswith(f":{port}")
        view.send_signal(signal.SIGTERM)  # the launcher passes a `kill` on
        assert view.wait(TIMEOUT) == 0
    finally:
        if view.poll() is None:
            view.kill()
    out.wait_for("^server stopped$")
    assert "Traceback" not in err.text(), err.text()


@POSIX_AND_WINDOWS  # the server waits with poll(), and as on Windows with select()
def test_a_program_that_reaches_the_feed_before_the_window_changes_nothing(start_server, tmp_path):
    """Issue 31: any program on the teacher's machine can find the feed's port and connect first.
    It sends what the window's keys send, and a delay of 1000 ms; the server closes it, serves
    without a delay, and the real window connects afterwards and shows the class."""
    state = tmp_path / "view.json"
    server = start_server("stage5_optimized", "--state", state, view=True)
    window = window_stopped_before_it_connects(server)
    port = feed_port(window)
    intruder = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    try:
        intruder.sendall(json.dumps({"delay": 1000}).encode() + b"\n")
        wait_until(lambda: heard(intruder, port), "the server to read what the intruder sent")
    finally:
        os.kill(window, signal.SIGCONT)
    honest = WireClient(server)
    honest.wait_for("connected")
    began = time.monotonic()
    honest.echo()
    round_trip = time.monotonic() - began
    wait_until(lambda: state.exists() or "no window" in server.err.text(), "the window to show the class")
    assert "no window" not in server.err.text()
    seen = shown(state, "the real window, and the honest student",
                 lambda state: state.get("window") and state["totals"]["connected"] == 1)
    assert seen["window"]["pid"] == window and seen["delay_ms"] == 0
    assert round_trip < 0.5, f"an echo took {round_trip * 1000:.0f} ms"  # not 1000: nothing is held
    assert intruder.recv(100) == b""  # the server closed it
    assert "held 1000" not in server.out.text()
    intruder.close()
    honest.close()


def test_a_copy_of_the_window_from_all_that_ps_shows_is_not_taken(start_server, tmp_path):
    """The secret is on the window's stdin: not on its command line, not in its environment. A
    copy of the window started with both, read from /proc, is closed; the real one is taken."""
    state = tmp_path / "view.json"
    server = start_server("stage4_relay", "--state", state, view=True)
    window = window_stopped_before_it_connects(server)
    try:
        arguments = command_line(window)
        assert arguments[2:] == ["--window", "--title", f"class view: stage 4: relay on 127.0.0.1:{server.port}",
                                 "--feed", str(feed_port(window)), "--state", str(state)]  # nothing more
        environment = dict(line.split("=", 1) for line in
                           Path(f"/proc/{window}/environ").read_text().split("\0") if "=" in line)
        copy = launch(*arguments[1:], env=environment)
        copy.stdin.close()  # whatever else it is given: the window's own stdin is gone, read
        out, err = Reader(copy.stdout), Reader(copy.stderr)
        assert copy.wait(TIMEOUT) == 1
        assert err.wait_for("^class view: no window: the server did not take it")
    finally:
        os.kill(window, signal.SIGCONT)
    assert shown(state, "the real window", lambda state: state.get("window"))["window"]["pid"] == window
    assert "no window" not in server.err.text()


@POSIX_AND_WINDOWS
def test_the_server_takes_only_the_delays_the_window_offers(start_server, tmp_path):
    state = tmp_path / "view.json"
    server = start_server("stage5_optimized", "--state", state, "--delay", 300, view=True)
    shown(state, "its window", lambda state: state.get("window"))
    for delay in (0, 1000, 150, "100", 100.0, 300):  # keys 0, 1, 2, and --delay; nothing else
        press(state, delay=delay)
    server.out.wait_for(r"^class view: everything the server sends is now held 300 ms$")
    lines = [line for line in server.out.lines if line.startswith("class view: ")][1:]
    assert lines == ["class view: the server sends everything at once again (no delay)",
                     "class view: the window asked for a delay of 1000 ms, which it does not offer "
                     "(0, 100, 200, 300): ignored, and any more not shown",
                     "class view: everything the server sends is now held 300 ms"]
    assert shown(state, "the delay", lambda state: state["delay_ms"] == 300)


@pytest.mark.parametrize("stage", ["stage2_queue", "stage4_relay"])
def test_an_address_that_holds_more_than_one_seat_is_marked(stage, start_server, tmp_path):
    """Issue 31, the pairing hostage: one address holds several players waiting or in games, and
    newcomers are paired with them. The view marks the address's rows with its seat count."""
    state = tmp_path / "view.json"
    server = start_server(stage, "--state", state, view=True)
    hostage, honest = next(LOOPBACK), next(LOOPBACK)
    held = []
    for _ in range(3):  # one at a time: they pair by arrival, so one game, and the third waiting
        held.append(WireClient(server, host=hostage))
        held[-1].wait_for("waiting" if len(held) != 2 else "startgame")
    newcomer = WireClient(server, host=honest)
    for client in (newcomer, held[2]):
        client.wait_for("startgame")  # the honest newcomer is paired with the hostage's third
    seen = shown(state, "two games", lambda state: state["totals"]["connected"] == 4 and
                 state["totals"]["games"] == 2)
    assert seen["crowded"] == {hostage: 3}  # in the same snapshot as the games
    assert {s["address"]: s["seats"] for s in seen["students"]} == {
        **{client.name: 3 for client in held}, newcomer.name: 1}
    held[0].close()
    shown(state, "two seats left", lambda state: state["crowded"] == {hostage: 2})
    for client in [*held[1:], newcomer]:
        client.close()


def test_a_game_named_alice_is_alice_in_the_view_with_its_address_beside(start_server, start_game, tmp_path):
    state, stage = tmp_path / "view.json", STAGES[-1]
    server = start_server(stage, "--state", state, view=True)
    games = [start_game(stage, server.port, name=name) for name in ("Alice", "Alice", "bot")]
    for game in games:
        game.until("state != 'connecting'")
    seen = shown(state, "three named students", lambda state: len([s for s in state["students"] if s["name"]]) == 3)
    names = sorted((s["name"], s["address"]) for s in seen["students"])
    assert [name for name, _ in names] == ["Alice", "Alice", "bot"]
    assert names[0][1] != names[1][1]  # two students of one name, told apart by their addresses
    server.out.wait_for(r"^Alice \(127\.0\.0\.1:\d+\) joined \(")

"""Across a classroom network: the teacher's machine and students' laptops as real hosts.

Each test builds a small classroom of network namespaces (tests/classroom.py):
a switch, the teacher's machine at 10.77.0.1 and a laptop or more. Servers run
on the teacher's machine, games on the laptops, and they talk over real links.
A machine vanishes as a sleeping laptop does: its cable is pulled, so from then
on nothing it sends arrives, and nothing tells the others, no FIN and no reset.

The vanishing tests run every stage at once, each with its own server and
laptops, so that the whole suite waits for TCP's timers once, not once a stage.
"""
import glob
import os
import re
import shlex
import signal
import time

import pytest

from classroom import NOBODY, TEACHER
from harness import REPORT, STAGES, TIMEOUT, Reader, finish, launch, stage_number, stages_from, wait_until

pytestmark = pytest.mark.classroom

# Each stage asks TCP to give up on a silent peer after about 11 s (VANISHING in
# every server.py and game.py). 15 s is what the kit promises; these bounds are
# TCP's timers, not this machine's speed, so a slow machine meets them too.
NOTICE_SECONDS = 15
CONNECT_SECONDS = 8  # CONNECT_SECONDS in every game.py
WAIT = NOTICE_SECONDS + TIMEOUT  # the longest any wait for a vanishing may take
LOST = r"(^|\()({address}:\d+)\)? lost its connection \((Connection timed out|No route to host)\)$"  # with its
#                                                                     game's name before it, or alone


def joined(stage):
    """What a game shows once the server has it: connected in stage 1, queued after."""
    return "state == 'connected'" if stage_number(stage) == 1 else "state == 'waiting for an opponent'"


def one_clear_line(text):
    assert "Traceback" not in text, text
    assert len(text.strip().splitlines()) == 1, text
    return text.strip()


def report(scenario, stage, seconds):
    REPORT.setdefault("vanishing", {})[(scenario, stage)] = round(seconds, 1)


@pytest.mark.parametrize("stage", STAGES)
def test_the_server_says_what_students_type_and_it_works_as_typed(stage, classroom, start_server):
    room = classroom(laptops=1)
    server = start_server(stage, "--host", "0.0.0.0", machine=room.teacher)
    line = server.out.wait_for(r"^students: .*").group(0)
    command = f"tools/kit.py game --stage {stage_number(stage)} --host {TEACHER} --port {server.port}"
    assert line == f"students: python3 {command}   (Windows: py {command.replace('/', chr(92))})"
    # The student's command, word for word, on the laptop: python3 is this one. The
    # launcher runs the game with the kit's .venv, as on a laptop that kit.py set up.
    kit = launch(*shlex.split(line.split("   (")[0])[2:], machine=room.laptops[0])
    try:
        server.out.wait_for(rf"^.+ \({room.address(room.laptops[0])}:\d+\) joined")  # its user name, its address
    finally:
        wait_until(lambda: children(kit.pid), "the launcher's game")
        for pid in (kit.pid, *children(kit.pid)):  # Ctrl+C in the student's terminal reaches both
            os.kill(pid, signal.SIGINT)
    code, out, err = finish(kit)
    # Nothing but, on the launcher's first run in this checkout, its two lines on installing
    # into .venv (make test's own .venv counts as installed once kit.py has run here).
    assert (code, err) == (0, "") and all(line.startswith("Install") for line in out.splitlines()), out


def children(pid):
    """The processes whose parent is `pid` (the fourth field of /proc/N/stat)."""
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as fields:
                after_name = fields.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended as we looked
        if int(after_name[1]) == pid:
            found.append(int(stat.split("/")[2]))
    return found


def test_a_server_for_this_machine_only_is_no_server_to_a_laptop(classroom, start_server):
    room = classroom(laptops=1)
    servers = {stage: start_server(stage, machine=room.teacher) for stage in STAGES}
    games = {stage: launch(f"{stage}/game.py", "--host", TEACHER, "--port", server.port,
                           machine=room.laptops[0]) for stage, server in servers.items()}
    for stage, server in servers.items():
        server.out.wait_for("^Only this machine can join. To let the class join, start the server "
                            "with --host 0.0.0.0$")
        code, out, err = finish(games[stage])
        assert code == 1 and out == ""
        assert one_clear_line(err) == (f"No server at {TEACHER}:{server.port} (Connection refused). "
                                       "Is it running there, started with --host 0.0.0.0?")


def test_a_game_that_gets_no_answer_says_what_to_check(classroom):
    # A firewall that drops what it will not let in, or an address where no
    # machine is, answers nothing at all: TCP alone would try for two minutes.
    room = classroom(laptops=1)
    room.black_hole(room.laptops[0], NOBODY)
    started = time.monotonic()
    games = {stage: launch(f"{stage}/game.py", "--host", NOBODY, machine=room.laptops[0])
             for stage in STAGES}
    errors = {stage: Reader(game.stderr) for stage, game in games.items()}
    for stage, game in games.items():
        gave_up = errors[stage].arrival("^No answer", timeout=CONNECT_SECONDS + TIMEOUT) - started
        report("nothing answered: the game said so", stage, gave_up)
        assert gave_up >= CONNECT_SECONDS
        assert game.wait(TIMEOUT) == 1
        assert one_clear_line(errors[stage].text()) == (
            f"No answer from {NOBODY}:31425 in {CONNECT_SECONDS} s. Is the server running there, "
            "and does its firewall let players in?")


@pytest.mark.parametrize("timers", ["kit", "plain_tcp"])
def test_a_waiting_player_whose_laptop_sleeps_leaves_the_queue(timers, classroom, start_server, start_game):
    # With the kit's socket options the server notices; with TCP's own timers
    # (plain_tcp) it does not, and a newcomer is paired with the ghost.
    room = classroom(laptops=len(STAGES))
    plain = timers == "plain_tcp"
    servers = {stage: start_server(stage, "--host", "0.0.0.0", machine=room.teacher, plain_tcp=plain)
               for stage in STAGES}
    laptops = dict(zip(STAGES, room.laptops))
    for stage, server in servers.items():
        start_game(stage, server.port, host=TEACHER, machine=laptops[stage]).until(joined(stage))
    for server in servers.values():
        server.wait_for_account(connected=1)
    pulled = time.monotonic()
    for laptop in room.laptops:
        room.pull_cable(laptop)
    if plain:  # watch every stage at once, for as long as the kit takes to notice: no line may come
        noticed = {stage: re.compile(LOST.format(address=room.address(laptops[stage]))) for stage in STAGES}

        def lines_that_noticed():
            return [line for stage, server in servers.items() for line in server.out.lines[:]
                    if noticed[stage].search(line)]

        with pytest.raises(AssertionError, match="timed out"):
            wait_until(lines_that_noticed, lambda: f"a server to notice: {lines_that_noticed()}",
                       timeout=pulled + NOTICE_SECONDS - time.monotonic())
    for stage, server in servers.items():
        address = room.address(laptops[stage])
        if plain:
            assert server.account()["connected"] == 1, server.out.text()
        else:
            noticed = server.out.arrival(LOST.format(address=address), timeout=WAIT) - pulled
            report("a waiting player's laptop slept: its server noticed", stage, noticed)
            assert noticed <= NOTICE_SECONDS
            server.wait_for_account(connected=0)
        # A newcomer on the teacher's own machine: queued, or paired with the ghost.
        newcomer = start_game(stage, server.port, machine=room.teacher)
        if stage_number(stage) == 1:
            newcomer.until(joined(stage))
        elif plain:
            newcomer.until("state.startswith('in game')")  # the ghost, as the original project had it
        else:
            newcomer.until(joined(stage))
            server.wait_for_account(connected=1, waiting=1, games=0)


def test_a_player_whose_laptop_sleeps_mid_game_is_noticed_while_the_other_moves(
        classroom, start_server, start_game):
    # While the mover moves, the server has data for the sleeper that is never
    # acknowledged, and TCP keepalive stays silent then: TCP_USER_TIMEOUT notices.
    stages = stages_from(4)
    room = classroom(laptops=2 * len(stages))
    players = {}
    for number, stage in enumerate(stages):
        server = start_server(stage, "--host", "0.0.0.0", machine=room.teacher)
        sleeper_laptop, mover_laptop = room.laptops[2 * number:2 * number + 2]
        sleeper = start_game(stage, server.port, host=TEACHER, machine=sleeper_laptop)
        sleeper.until(joined(stage))
        mover = start_game(stage, server.port, host=TEACHER, machine=mover_laptop)
        for game in (sleeper, mover):
            game.until("state.startswith('in game')")
        mover.frames(keydown=["left"])  # and keeps the key down from now on
        players[stage] = server, sleeper_laptop, mover
    pulled = time.monotonic()
    for server, sleeper_laptop, mover in players.values():
        room.pull_cable(sleeper_laptop)
        mover.ask(cmd="until", condition="'opponentleft' in wire['actions']", timeout=WAIT)
    for stage, (server, sleeper_laptop, mover) in players.items():
        shown = mover.answer(WAIT + TIMEOUT)
        noticed = shown["clock"]["now"] - pulled
        report("a player's laptop slept mid-game: the mover was told", stage, noticed)
        assert noticed <= NOTICE_SECONDS
        assert shown["wire"]["sent_actions"].count("move") > 60  # it kept moving all along
        server.out.wait_for(LOST.format(address=room.address(sleeper_laptop)))
        server.wait_for_account(connected=1, waiting=1, games=0)  # the mover, queued again


def test_a_game_whose_server_vanishes_says_so_and_exits(classroom, start_server, start_game):
    # The teacher's machine sleeps. A game that waits hears nothing (TCP keepalive
    # notices); a game whose player moves sends moves nobody acknowledges
    # (TCP_USER_TIMEOUT notices).
    room = classroom(laptops=1)
    laptop = room.laptops[0]
    games = []
    for stage in STAGES:
        server = start_server(stage, "--host", "0.0.0.0", machine=room.teacher)
        first = start_game(stage, server.port, host=TEACHER, machine=laptop)
        first.until(joined(stage))
        games.append((stage, server, first, "idle"))
        if stage_number(stage) >= 4:
            second = start_game(stage, server.port, host=TEACHER, machine=laptop)
            for game in (first, second):
                game.until("state.startswith('in game')")
            second.frames(keydown=["right"])
            games.append((stage, server, second, "moving"))
    pulled = time.monotonic()
    room.pull_cable(room.teacher)
    for stage, server, game, doing in games:
        game.ask(cmd="until", condition="error is not None", timeout=WAIT)
    for stage, server, game, doing in games:
        shown = game.answer(WAIT + TIMEOUT)
        noticed = shown["clock"]["now"] - pulled
        report(f"the server's machine slept: a game that was {doing} showed it", stage, noticed)
        assert noticed <= NOTICE_SECONDS
        assert shown["error"].startswith(f"Lost the connection to the server at {TEACHER}:{server.port} ("), shown
        assert shown["exit_code"] == 1
        game.until("not running", timeout=TIMEOUT)  # it exits, as with any lost connection

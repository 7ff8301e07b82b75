"""A game introduces itself: its hello, the first echo, also says its stage and its player's name.

Every stage's armour, on the poll path and as on Windows:
  * the server pairs a client only once its first whole message has come, and
    a client that says neither stage nor name (a raw PodSixNet client, an older
    game, a test tool) gets today's bytes in today's order;
  * a game of another stage is told so before it is paired, with one message,
    and says so in its window and its terminal, naming both stages; the server
    says it once per machine;
  * kit.py check's hello says "check": true, and a check is never a player: a
    waiting student hears nothing of it, and it uses no game number;
  * a name is at most 20 characters and holds no character that hides or turns
    text (control and format characters: zero-width, bidi); lines about a
    client that gave one say `Alice (127.0.1.1:52311) ...`.
"""
import subprocess
import sys

import pytest

from harness import (POSIX_AND_WINDOWS, ROOT, STAGES, TERMINATOR, TIMEOUT, WireClient, dumps, encode,
                     stage_number, stages_from)

sys.path.insert(0, str(ROOT / "tools"))
import kit  # noqa: E402 (the launcher: its check, and its window places)

STAGE = {stage_number(stage): stage for stage in STAGES}


@POSIX_AND_WINDOWS
@pytest.mark.parametrize("game_stage, server_stage", [(4, 3), (2, 1), (3, 4)])
def test_a_game_of_another_stage_says_so_in_its_window_and_terminal(game_stage, server_stage, start_server,
                                                                    start_game):
    server = start_server(STAGE[server_stage])
    game = start_game(STAGE[game_stage], server.port, name="Alice")
    line = (f"This game is stage {game_stage}, but the server at 127.0.0.1:{server.port} runs stage "
            f"{server_stage}: ask for stage {game_stage}'s server, or start stage {server_stage}'s game.")
    assert game.until("error is not None")["error"] == line  # in the window
    game.err.wait_for(f"^{line}$")  # and in the terminal
    shown = game.frames(30)
    assert shown["running"] and shown["game_id"] is None  # it stays open to show it, and is not paired
    server.out.wait_for(rf"^Alice \(127\.0\.0\.1:\d+\) is a stage {game_stage} game, but this server runs "
                        rf"stage {server_stage}: told it so, and not paired$")
    again = start_game(STAGE[game_stage], server.port, name="Alice")
    again.until("error is not None")  # told: the server has handled its hello, and logged what it will
    assert server.out.text().count("told it so") == 1  # once per machine


@POSIX_AND_WINDOWS
@pytest.mark.parametrize("stage", stages_from(2))
def test_a_check_is_never_a_player(stage, start_server):
    server = start_server(stage)
    waiting = WireClient(server)
    waiting.wait_for("waiting")
    for _ in range(3):
        ok, round_trip = kit.ask_server("127.0.0.1", server.port)
        assert ok, round_trip
    server.out.wait_for(r"^127\.0\.0\.1:\d+ checked this server \(kit\.py check\), and is not a player$")
    waiting.echo()
    assert waiting.actions() == ["connected", "waiting", "echo"]  # it heard nothing of the checks
    newcomer = WireClient(server)  # paired with the student who waited, not with a check
    start = newcomer.wait_for("startgame")
    if stage_number(stage) >= 3:
        assert start["gameID"] == 0  # the checks used no game number


@POSIX_AND_WINDOWS
@pytest.mark.parametrize("stage", [STAGES[0], STAGES[1], STAGES[-1]])
def test_a_client_that_does_not_introduce_itself_gets_todays_bytes_in_todays_order(stage, start_server):
    server = start_server(stage)
    first, second = WireClient(server, hello=False), WireClient(server, hello=False)
    for client in (first, second):
        client.send_message({"action": "echo", "text": "hello"})
        client.wait_for("echo")
    if stage_number(stage) >= 2:
        first.wait_for("startgame")  # the second's hello paired them
    expected = ([["connected", "echo"]] * 2 if stage_number(stage) == 1 else
                [["connected", "waiting", "echo", "startgame"], ["connected", "startgame", "echo"]])
    assert [first.actions(), second.actions()] == expected
    assert first.inbox[0] == {"action": "connected"}


@POSIX_AND_WINDOWS
def test_the_hello_carries_the_stage_and_the_name_and_nothing_more_crosses(start_server, start_game):
    stage = STAGES[-1]
    server = start_server(stage)
    game = start_game(stage, server.port, name="Alice")
    shown = game.until("state != 'connecting'")
    shown = game.echo()
    assert shown["sent"] == 2 and shown["wire"]["sent_actions"] == ["echo", "echo"]  # the hello is the echo
    assert shown["received"] == 4  # connected, waiting and the two replies: nothing more crossed
    server.out.wait_for(r"^Alice \(127\.0\.0\.1:\d+\) joined \(connected 1, waiting 1, games 0\)$")


@POSIX_AND_WINDOWS
@pytest.mark.parametrize("name, why", [("A\u200bB", r"holds '\\u200b', which hides or turns text"),
                                       ("\u202eecilA", r"holds '\\u202e', which hides or turns text"),
                                       ("x" * 21, "is not 1 to 20 characters")])
def test_a_name_that_hides_or_turns_text_is_refused_by_the_game_and_the_server(name, why, start_server):
    stage = STAGES[-1]
    ran = subprocess.run([sys.executable, f"{stage}/game.py", "--name", name, "--port", "1"], cwd=ROOT,
                         capture_output=True, text=True, timeout=TIMEOUT, env={"PYTHONIOENCODING": "utf-8",
                                                                             "SDL_VIDEODRIVER": "dummy",
                                                                             "PATH": ""})
    assert ran.returncode == 2
    assert ran.stderr.strip().splitlines() == [f"--name {ascii(name)} {why.replace(chr(92) * 2, chr(92))}: "
                                               "choose another."]
    server = start_server(stage)
    client = WireClient(server, hello=False)
    client.send_message({"action": "echo", "text": "hello", "stage": stage_number(stage), "name": name})
    client.wait_for("echo")
    client.wait_logged(rf"sent a name that {why}, .*: named by its address$")
    client.wait_logged(r"joined \(")  # by its address, and paired as usual


@POSIX_AND_WINDOWS
def test_two_students_with_one_name_are_told_apart(start_server, start_game):
    stage = STAGES[-1]
    server = start_server(stage)
    for _ in range(2):
        start_game(stage, server.port, name="Sam").until("state != 'connecting'")
    started = server.out.wait_for(r"^game 0 started: Sam \((127\.0\.0\.1:\d+)\) vs Sam \((127\.0\.0\.1:\d+)\)$")
    assert started.group(1) != started.group(2)


def test_game_windows_started_one_by_one_open_side_by_side():
    first, where_first = kit.window_place()
    second, where_second = kit.window_place()  # while the first game runs: beside it
    assert where_second != where_first
    first.close()  # the first game ends: its place is free again
    third, where_third = kit.window_place()
    assert where_third == where_first
    second.close()
    third.close()


def test_a_raw_hello_encoded_by_the_check_is_what_rencode_says():
    assert kit.HELLO == dumps({"action": "echo", "text": "kit check", "check": True}) + TERMINATOR
    assert kit.ECHO == encode({"action": "echo", "text": "kit check"})

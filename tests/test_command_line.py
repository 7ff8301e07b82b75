"""Every stage's command line: a student's mistake gets one clear line and an exit code, never a traceback."""
import subprocess
import sys

import pytest

from harness import ROOT, STAGES, TIMEOUT, finish, free_ports, launch, server_command, stage_number


def one_clear_line(text):
    assert "Traceback" not in text, text
    assert len(text.strip().splitlines()) == 1, text
    return text.strip()


@pytest.mark.parametrize("as_windows", [False, True], ids=["posix", "windows"])
@pytest.mark.parametrize("stage", STAGES)
def test_port_in_use_says_so_and_exits_1(stage, as_windows, start_server):
    # As on Windows, SO_REUSEADDR would let the second server share the port in
    # silence: each server asks for SO_EXCLUSIVEADDRUSE there instead.
    server = start_server(stage)
    code, out, err = finish(launch(*server_command(stage, as_windows=as_windows), "--port", server.port))
    line = one_clear_line(err)
    assert code == 1 and out == ""
    assert f"Port {server.port} is already in use" in line and "--port" in line


@pytest.mark.parametrize("stage", STAGES)
def test_unusable_host_says_so_and_exits_1(stage):
    code, _, err = finish(launch(f"{stage}/server.py", "--host", "192.0.2.1", "--port", 0))
    assert code == 1 and "Cannot listen on 192.0.2.1:0" in one_clear_line(err)


def test_game_without_a_server_says_how_to_start_one():
    # Every stage at once: each game shows its error for 4 s before it exits.
    games = {stage: (port, launch(f"{stage}/game.py", "--port", port))
             for stage, port in zip(STAGES, free_ports(len(STAGES)))}
    for stage, (port, game) in games.items():
        code, out, err = finish(game, timeout=TIMEOUT + 5)
        line = one_clear_line(err)
        assert code == 1 and out == ""
        assert f"No server at 127.0.0.1:{port}" in line
        assert f"python3 tools/kit.py server --stage {stage_number(stage)} --port {port}" in line


@pytest.mark.parametrize("stage", STAGES)
def test_game_without_a_display_says_so(stage):
    no_display = ("import os, runpy, sys; os.environ.pop('DISPLAY', None); "
                  "os.environ['SDL_VIDEODRIVER'] = 'x11'; sys.argv = ['game.py']; "
                  f"runpy.run_path('{stage}/game.py', run_name='__main__')")
    code, out, err = finish(launch("-c", no_display))
    assert code == 1 and "Cannot open a window" in one_clear_line(err)


@pytest.mark.parametrize("stage", STAGES)
def test_closing_the_window_exits_cleanly(stage, start_server):
    server = start_server(stage)
    # The real main(): pygame delivers a QUIT, as when a player clicks the close button.
    close_soon = ("import pygame, runpy, sys; pygame.init(); "
                  "pygame.time.set_timer(pygame.QUIT, 1000, loops=1); "
                  f"sys.argv = ['game.py', '--port', '{server.port}']; "
                  f"runpy.run_path('{stage}/game.py', run_name='__main__')")
    code, out, err = finish(launch("-c", close_soon))
    assert (code, out, err) == (0, "", "")
    server.out.wait_for(r" left \(")


def test_game_reports_a_lost_server_and_exits(start_server):
    # Every stage at once, as above.
    servers = {stage: start_server(stage) for stage in STAGES}
    games = {stage: launch(f"{stage}/game.py", "--port", server.port) for stage, server in servers.items()}
    for stage, server in servers.items():
        server.out.wait_for(r" joined \(")
        assert server.stop() == 0
    for stage, server in servers.items():
        code, out, err = finish(games[stage], timeout=TIMEOUT + 5)
        assert code == 1 and out == ""
        assert f"The server at 127.0.0.1:{server.port} closed the connection" in one_clear_line(err)


@pytest.mark.parametrize("stage", STAGES)
def test_server_stops_cleanly_on_sigterm(stage, start_server):
    server = start_server(stage)
    assert server.stop() == 0
    assert server.out.lines[-1] == "server stopped"
    assert server.err.text() == ""


@pytest.mark.parametrize("stage", STAGES)
def test_server_stops_cleanly_however_many_times_it_is_told(stage, start_server):
    # Ctrl+C in a terminal reaches the launcher and the server, and the launcher passes
    # a kill on: signals that keep coming while the server stops must not break its stop.
    server = start_server(stage)
    while server.proc.poll() is None:
        server.proc.send_signal(server.stop_signal)  # as fast as they come: some land mid-stop
    assert server.proc.wait(TIMEOUT) == 0
    server.out.wait_for("^server stopped$")
    assert server.err.text() == ""


@pytest.mark.parametrize("stage", STAGES)
def test_a_signal_while_the_server_stops_changes_nothing(stage):
    # The test above sends signals as fast as they go, but how many land in the moment
    # between the first and the server's "server stopped" depends on the machine. Here the
    # stage's own signal handler is called twice in a row, in a process of its own: the first
    # stops the server, and the second, while it stops, must not raise again.
    code = ("import sys; sys.path.insert(0, 'tools'); from stages import load\n"
            f"server = load({stage!r}, 'server')\n"
            "try:\n    server.stop(2, None)\nexcept KeyboardInterrupt:\n    pass\n"
            "server.stop(2, None)\nprint('stopped once')")
    ran = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "stopped once\n", "")


def test_every_stage_folder_is_just_a_server_and_a_game():
    for stage in STAGES:
        files = {p.name for p in (ROOT / stage).iterdir() if p.name != "__pycache__"}
        assert files == {"server.py", "game.py"}, stage
        for path in (ROOT / stage).glob("*.py"):
            assert "import stage" not in path.read_text(), f"{path} imports another stage"

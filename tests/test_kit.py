r"""tools/kit.py, the launcher, as a new user meets it: in a fresh copy of the kit, with
no make and no activate, only a `python3` on PATH (a link to the real interpreter).

One copy's .venv is made by its first command, `kit.py demo`, and then shared by the
tests of this module; pip installs from its cache. The offline install runs in a network
namespace that has only loopback, from a wheelhouse of this machine's wheels.
"""
import glob
import os
import pty
import re
import shutil
import signal
import socket
import subprocess
import sys

import pytest

from classroom import NOBODY, Offline, remove_leftovers, unavailable
from harness import HEADLESS, ROOT, TIMEOUT, Reader, finish, free_port

REAL_PYTHON = os.path.realpath(sys.executable)  # not .venv's: the Python a new user has
INSTALL_TIMEOUT = 10 * TIMEOUT  # a pip install on a slow, busy machine
TICK, CROSS = "\u2713", "\u2717"


class Kit:
    """A fresh copy of the kit, and a PATH that holds python3 and nothing else."""

    def __init__(self, folder):
        shutil.copytree(ROOT, folder, ignore=shutil.ignore_patterns(
            ".venv", ".git", ".nox", "__pycache__", ".pytest_cache", "*.pyc"))
        self.folder, self.bin = folder, folder / "bin-only"
        self.bin.mkdir()
        (self.bin / "python3").symlink_to(REAL_PYTHON)
        assert shutil.which("make", path=str(self.bin)) is None

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        env.update(PATH=str(self.bin), PYTHONUNBUFFERED="1", PYGAME_HIDE_SUPPORT_PROMPT="1")
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def start(self, *args, machine=None, env=None, **popen):
        """`python3 tools/kit.py ARGS` in the copy (on a namespace `machine`), output piped."""
        on = [shutil.which("ip"), "netns", "exec", machine] if machine else []
        options = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        options.update(popen)
        return subprocess.Popen([*on, "python3", "tools/kit.py", *map(str, args)], cwd=self.folder,
                                env=env or self.env(), stdin=subprocess.DEVNULL, **options)

    def run(self, *args, timeout=INSTALL_TIMEOUT, **options):
        return finish(self.start(*args, **options), timeout)

    def venv_has(self, module):
        found = subprocess.run([self.folder / ".venv/bin/python", "-c",
                                f"import importlib.util; print(importlib.util.find_spec('{module}') is not None)"],
                               capture_output=True, text=True)
        return found.stdout.strip() == "True"


def one_line(text):
    assert "Traceback" not in text, text
    assert len(text.strip().splitlines()) == 1, text
    return text.strip()


def refused(port):
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """A fresh copy whose .venv its first command, `kit.py demo`, made: the demo ran headless
    until its two games were paired, then stopped with Ctrl+C (SIGINT to its process group,
    as a terminal sends it). Later tests reuse that .venv."""
    copy = Kit(tmp_path_factory.mktemp("kit") / "kit")
    port = free_port()
    demo = copy.start("demo", "--stage", 4, "--port", port, start_new_session=True)
    out, err = Reader(demo.stdout), Reader(demo.stderr)
    try:
        out.wait_for(r"Making \.venv", timeout=INSTALL_TIMEOUT)
        out.wait_for(r"game 0 started: ", timeout=INSTALL_TIMEOUT)  # both games found the server and paired
        os.killpg(demo.pid, signal.SIGINT)
        copy.demo = (demo.wait(TIMEOUT), out.text(), err.text(), port)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
    copy.pytest_after_demo = copy.venv_has("pytest"), copy.venv_has("hypothesis")
    return copy


def test_demo_alone_makes_a_venv_with_the_kit_and_no_test_tools(kit):
    code, out, err, port = kit.demo
    assert code == 0, err
    assert "Traceback" not in err, err
    assert "Installing PodSixNet, pygame-ce" in out and "pytest" not in out
    assert kit.pytest_after_demo == (False, False)
    assert kit.venv_has("pygame") and kit.venv_has("PodSixNet")
    refused(port)  # the server went with the demo


def test_a_kill_of_the_launcher_alone_stops_the_demo_and_all_it_started(kit):
    port = free_port()
    demo = kit.start("demo", "--stage", 2, "--port", port)
    out, err = Reader(demo.stdout), Reader(demo.stderr)
    try:
        out.wait_for(r"game started: ")  # stage 2's games have no number yet
        demo.send_signal(signal.SIGTERM)  # to the launcher only, as `kill PID` does
        assert demo.wait(TIMEOUT) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
    assert "Traceback" not in err.text(), err.text()
    refused(port)


def test_bot_runs_tools_bot_py_with_its_options_and_a_kill_stops_it(kit, start_server):
    server = start_server("stage3_startgame")
    bot = kit.start("bot", "--stage", 3, "--port", server.port)
    out, err = Reader(bot.stdout), Reader(bot.stderr)
    try:
        out.wait_for(r"^bot: waiting for an opponent$")
        bot.send_signal(signal.SIGTERM)  # to the launcher only, as `kill PID` does
        assert bot.wait(TIMEOUT) == 0
    finally:
        if bot.poll() is None:
            bot.kill()
    out.wait_for(r"^bot: stopped, after 0 moves")
    assert not err.lines and "Traceback" not in err.text(), err.text()


def test_test_adds_the_test_tools_to_the_same_venv_and_passes_pytest_its_options(kit):
    code, out, err = kit.run("test", "-q", "-p", "no:cacheprovider", "tests/test_layout.py", "-k", "armour")
    assert code == 0, out + err
    assert "Installing pytest, hypothesis, pypdf, python-pptx into .venv" in out
    assert re.search(r"\d+ passed", out)
    assert kit.venv_has("pytest") and kit.venv_has("hypothesis")


def installs(kit, *args):
    """Run a command of the kit's that installs what it needs first, and ends at once: the
    packages it says it installs ("" if none)."""
    code, out, err = kit.run(*args)
    assert code == 0, out + err
    found = re.search(r"^Installing (.+) into \.venv", out, re.M)
    return found.group(1) if found else ""


def test_a_changed_requirements_file_is_installed_again_and_an_install_keeps_the_others(kit):
    quick = {"test": ("test", "--version"), "kit": ("bot", "--help")}
    installs(kit, *quick["test"])  # both files installed, whatever ran before
    installs(kit, *quick["kit"])
    tools, student = kit.folder / "requirements-test.txt", kit.folder / "requirements.txt"
    was = {path: path.read_text() for path in (tools, student)}
    try:
        tools.write_text(was[tools] + "# a changed comment: the file is new to the kit\n")
        assert installs(kit, *quick["test"]) == "pytest, hypothesis, pypdf, python-pptx"
        assert installs(kit, *quick["kit"]) == ""  # the test tools' install kept the kit's own
        student.write_text(was[student] + "pip  # a new dependency, here already\n")
        installed = installs(kit, *quick["kit"]).split(", ")  # (and on Python 3.12 on, pyasyncore, pyasynchat)
        assert installed[:2] == ["PodSixNet", "pygame-ce"] and installed[-1] == "pip", installed
        assert installs(kit, *quick["test"]) == ""
    finally:
        for path, text in was.items():
            path.write_text(text)
    installs(kit, *quick["kit"])  # as it was, for the tests after this one
    installs(kit, *quick["test"])


def test_diff_3_prints_what_stage_3_adds_to_stage_2_as_a_unified_diff(kit):
    code, out, err = kit.run("diff", 3)
    assert code == 0 and err == ""
    parts = re.split(r"^(?=--- stage)", out, flags=re.M)
    assert parts[0] == "" and len(parts) == 3
    for part, name in zip(parts[1:], ["server.py", "game.py"]):
        assert part.startswith(f"--- stage2_queue/{name}\n+++ stage3_startgame/{name}\n")
    assert "+What this stage adds to stage 2:" in out
    assert "\033[" not in out  # a pipe gets no colours
    if shutil.which("patch"):  # each diff, applied to stage 2's file, makes stage 3's
        for part, name in zip(parts[1:], ["server.py", "game.py"]):
            made = subprocess.run(["patch", "--quiet", "--output=-", f"stage2_queue/{name}"], input=part,
                                  cwd=kit.folder, capture_output=True, text=True)
            assert made.returncode == 0, made.stderr
            assert made.stdout == (kit.folder / "stage3_startgame" / name).read_text()


def test_diff_is_coloured_on_a_terminal_and_asks_for_a_stage_it_has(kit):
    main, terminal = pty.openpty()
    try:
        proc = kit.start("diff", 5, stdout=terminal, env=kit.env(TERM="xterm", NO_COLOR=None))
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal's other end has closed: the diff is all there
                break
            if not chunk:
                break
            shown += chunk
        assert proc.wait(TIMEOUT) == 0
    finally:
        os.close(main)
    assert b"\033[32m+" in shown and b"\033[31m-" in shown
    for wrong in ("1", "6", None):
        code, out, err = kit.run("diff", *[wrong] * bool(wrong))
        assert code == 1 and out == ""
        assert one_line(err) == "kit: Say which stage, from 2 to 5: python3 tools/kit.py diff 3"


def test_game_and_server_run_a_stages_file_with_the_venv_and_ask_for_a_stage_it_has(kit):
    for name, example in (("game", "--host 10.0.0.5"), ("server", "--host 0.0.0.0")):
        code, out, err = kit.run(name, *example.split(), timeout=TIMEOUT)
        assert code == 1 and out == "" and one_line(err) == (
            f"kit: Say which stage, from 1 to 5, or a folder with a server.py and a game.py: python3 "
            f"tools/kit.py {name} --stage 4 {example}")
    port = free_port()
    code, out, err = kit.run("game", "--stage", 2, "--port", port, timeout=TIMEOUT, env=kit.env(**HEADLESS))
    assert code == 1 and one_line(err) == (f"No server at 127.0.0.1:{port} (Connection refused). Start one "
                                           f"first: python3 tools/kit.py server --stage 2 --port {port}")
    with socket.socket() as taken:  # a port another server holds: server.py's own line, so it ran
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = kit.run("server", "--stage", 3, "--port", port, timeout=TIMEOUT)
    assert code == 1 and one_line(err) == (f"Port {port} is already in use: is another server still running? "
                                           f"Stop it with Ctrl+C, or start this one with --port {port + 1}.")


def test_tag_builds_the_capstone_outside_the_kit_and_server_runs_that_folder(kit, tmp_path):
    built = tmp_path / "my tag"  # a teacher's folder, with a space in its name
    code, out, err = kit.run("tag", built, timeout=TIMEOUT)
    assert code == 0 and err == "" and one_line(out).startswith(
        f"Built {built}: stage 5 with the steps tag-1 to tag-7 of lesson 10 applied. Play it: ")
    assert sorted(path.name for path in built.iterdir()) == ["game.py", "server.py"]
    assert '"action": "tagged"' in (built / "server.py").read_text(encoding="utf-8")
    code, out, err = kit.run("tag", built, timeout=TIMEOUT)
    assert code == 1 and one_line(err) == f"kit: {built} is already there, and not an empty folder: name a new one."
    short = tmp_path / "short"  # the short route's capstone: its first four steps
    code, out, err = kit.run("tag", short, "--up-to", 4, timeout=TIMEOUT)
    assert code == 0 and "with the steps tag-1 to tag-4 of lesson 10 applied" in out
    assert '"action": "tagged"' in (short / "server.py").read_text(encoding="utf-8")
    assert '"newround"' not in (short / "server.py").read_text(encoding="utf-8")
    code, out, err = kit.run("tag", "tag", timeout=TIMEOUT)  # inside the kit: no sixth folder beside the stages
    assert code == 1 and one_line(err).startswith("kit: Build it outside the kit's folder") and out == ""
    assert not (kit.folder / "tag").exists()
    with socket.socket() as taken:  # the folder's own server.py ran: its line for a port in use
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = kit.run("server", "--stage", built, "--port", port, timeout=TIMEOUT)
    assert code == 1 and one_line(err).startswith(f"Port {port} is already in use")


def test_check_passes_against_a_running_kit_server(kit, start_server):
    server = start_server("stage5_optimized")
    code, out, err = kit.run("check", "--host", "127.0.0.1", "--port", server.port, timeout=TIMEOUT)
    assert code == 0 and err == "", out + err
    lines = out.splitlines()
    assert lines[0].startswith(f"{TICK} Python 3.")
    assert f"{TICK} PodSixNet 0.11.0" in lines and any(line.startswith(f"{TICK} pygame-ce 2.") for line in lines)
    assert f"{TICK} a pygame window opens (SDL_VIDEODRIVER=dummy: an invisible stand-in, as the tests use)" in lines
    assert f"{TICK} port {server.port} is held by a kit server on this machine: fine, games here can join it" in lines
    assert re.search(fr"^{TICK} the kit server at 127.0.0.1:{server.port} greets this laptop and echoes, "
                     r"round trip \d+\.\d ms$", out, re.M)
    assert lines[-1] == "Ready: this laptop can run the kit and reach the server at 127.0.0.1."
    server.out.wait_for(r" left \(")  # the check's connection came and went, as a player's does


def failed(result, line):
    """check's exit code is 1, and its output has this failure line (or, if `line` ends
    with "...", a failure line that starts so) and the verdict."""
    code, out, err = result
    assert code == 1 and err == "", out + err
    crosses = [found[2:] for found in out.splitlines() if found.startswith(CROSS)]
    assert any(found == line or line.endswith("...") and found.startswith(line[:-3]) for found in crosses), out
    assert re.search(r"^Not ready: \d problems? above, each with what to do\.$", out, re.M), out
    return out


def test_check_says_a_closed_port_refused(kit):
    port = free_port()
    failed(kit.run("check", "--host", "127.0.0.1", "--port", port, timeout=TIMEOUT),
           f"refused at 127.0.0.1:{port}: that machine is there, but no server listens on port {port} for "
           "other machines. Start the server there with --host 0.0.0.0, and use the same --port.")


def test_check_names_the_program_that_holds_the_port(kit):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        out = failed(kit.run("check", "--port", port, timeout=TIMEOUT), f"port {port} is held by ...")
    assert f"(process {os.getpid()}), not a kit server. Stop it, or run the server and the games with " \
           f"another port, e.g. --port {port + 1}" in out


def test_check_without_a_screen_says_so(kit):
    env = kit.env(SDL_VIDEODRIVER=None, DISPLAY=None, WAYLAND_DISPLAY=None)
    failed(kit.run("check", env=env, timeout=TIMEOUT), "no screen: pygame fell back to its invisible 'offscreen' "
           "window. Run the games on a desktop, not over a remote shell")


def test_check_on_a_console_that_cannot_show_ticks(kit):
    code, out, err = kit.run("check", env=kit.env(PYTHONIOENCODING="cp1252"), timeout=TIMEOUT)
    assert code == 0 and err == "", out + err
    assert out.startswith("[ok] Python 3.") and TICK not in out


def test_check_says_a_package_is_missing_and_the_command_that_fixes_it(kit, tmp_path):
    broken = Kit(tmp_path / "kit")
    shutil.copytree(kit.folder / ".venv", broken.folder / ".venv", symlinks=True)
    subprocess.run([broken.folder / ".venv/bin/python", "-m", "pip", "uninstall", "--yes", "pygame-ce"],
                   check=True, capture_output=True)
    out = failed(broken.run("check", timeout=TIMEOUT), "pygame-ce does not import ...")
    fix = re.search(r"pygame-ce does not import \(ModuleNotFoundError: No module named 'pygame'\): run (.*)$",
                    out, re.M).group(1)
    assert fix == "python3 tools/kit.py setup" and f"{TICK} PodSixNet 0.11.0" in out
    assert "no pygame window tried" in out
    assert fix.split()[:2] == ["python3", "tools/kit.py"]
    code, out, err = broken.run(*fix.split()[2:])  # the command, as typed
    assert code == 0, out + err
    code, out, err = broken.run("check", timeout=TIMEOUT)
    assert code == 0 and out.endswith("Ready: this laptop can run the kit.\n"), out + err


@pytest.mark.classroom
def test_check_on_a_classroom_network_says_what_is_wrong(kit, classroom):
    room = classroom(laptops=1)
    laptop = room.laptops[0]
    server = subprocess.Popen(["ip", "netns", "exec", room.teacher, kit.folder / ".venv/bin/python",
                               "stage5_optimized/server.py", "--host", "0.0.0.0"], cwd=kit.folder,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        Reader(server.stdout).wait_for("listening on 0.0.0.0:31425")
        code, out, err = kit.run("check", "--host", "10.77.0.1", machine=laptop, timeout=TIMEOUT)
        assert code == 0 and "round trip" in out, out + err
        failed(kit.run("check", "--host", NOBODY, machine=laptop, timeout=TIMEOUT),
               f"{NOBODY}:31425 cannot be reached from this laptop (No route to host): a wrong address, "
               "or this laptop is on another network than the server.")
        failed(kit.run("check", "--host", "teachers-pc.invalid", machine=laptop, timeout=TIMEOUT),
               "teachers-pc.invalid is no address this laptop can find ...")
        room.black_hole(laptop, "10.77.0.1")  # as a firewall that drops what it does not allow
        failed(kit.run("check", "--host", "10.77.0.1", machine=laptop, timeout=TIMEOUT),
               "no answer from 10.77.0.1:31425 in 5 s: a firewall on the server's machine (allow Python on "
               "private networks), a wrong address, or a Wi-Fi that keeps laptops apart (try another network, "
               "or a phone's hotspot).")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(TIMEOUT)


def test_as_on_windows_it_runs_scripts_python_exe_and_says_py(kit, tmp_path):
    windows = kit.env(KIT_AS_WINDOWS="1")
    code, out, err = kit.run("diff", 9, env=windows)
    assert code == 1 and one_line(err) == r"kit: Say which stage, from 2 to 5: py tools\kit.py diff 3"
    fresh = Kit(tmp_path / "kit")  # python -m venv makes bin/ here, never Scripts\
    code, out, err = fresh.run("demo", env=fresh.env(KIT_AS_WINDOWS="1"))
    assert code == 1 and one_line(err) == (r"kit: The .venv folder is broken (it has no .venv\Scripts\python.exe). "
                                           r"Make it again with: py tools\kit.py setup")
    scripts = kit.folder / ".venv" / "Scripts"
    scripts.mkdir()
    try:
        (scripts / "python.exe").symlink_to(kit.folder / ".venv/bin/python")  # as a Windows venv lays it out
        code, out, err = kit.run("check", "--host", "127.0.0.1", "--port", free_port(), env=windows, timeout=TIMEOUT)
        assert f"{TICK} PodSixNet 0.11.0" in out  # the packages were tried with Scripts\python.exe
        code, out, err = kit.run("wheelhouse", env=windows)
        assert code == 2 and "py tools\\kit.py wheelhouse" in err
    finally:
        shutil.rmtree(scripts)


def test_a_python_too_old_or_too_new_gets_one_line(kit):
    import importlib.util
    sys.path.insert(0, str(ROOT / "tools"))  # as running tools/kit.py puts it first: kit.py imports stages.py
    spec = importlib.util.spec_from_file_location("kit", ROOT / "tools" / "kit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.python_problem((3, 15, 0)).startswith(
        "Python 3.15.0 is newer than the kit has been tried on (3.9 to 3.14): pygame-ce may have no wheel for it yet.")
    assert module.python_problem((3, 9, 0)) is None and module.python_problem((3, 14, 2)) is None
    old = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.[678].*/bin/python3")))
    if not old:
        pytest.skip("no Python older than 3.9 here to try the launcher with")
    ran = subprocess.run([old[-1], "tools/kit.py", "demo"], cwd=kit.folder, capture_output=True, text=True)
    assert ran.returncode == 1 and ran.stdout == ""
    assert one_line(ran.stderr).startswith("kit: Python 3.") and "is too old for the kit, which runs on " \
        "Python 3.9 to 3.14. Install Python 3.14" in ran.stderr
    ran = subprocess.run([old[-1], "tools/kit.py", "check"], cwd=kit.folder, capture_output=True, text=True)
    assert ran.returncode == 1 and ran.stderr == ""
    assert re.fullmatch(f"{CROSS} Python 3\\.[678]\\.\\d+ is too old for the kit, .*\nNot ready: 1 problem above, "
                        "each with what to do\\.\n", ran.stdout), ran.stdout


@pytest.fixture
def offline_machine():
    """A network namespace whose only interface is loopback, removed afterwards whatever
    happens. Skips the test where namespaces cannot be made."""
    why = unavailable()
    if why:
        pytest.skip(why)
    remove_leftovers()
    machine = Offline()
    yield machine.name
    machine.close()


def test_setup_offline_installs_from_a_wheelhouse_with_no_network_at_all(kit, tmp_path, offline_machine):
    code, out, err = kit.run("wheelhouse", tmp_path / "wheels", "--only-this-machine")
    assert code == 0, out + err
    pins = (tmp_path / "wheels" / "constraints.txt").read_text()
    assert "PodSixNet==0.11.0" in pins and re.search(r"^pygame-ce==[\d.]+; python_version == \"3\.\d+\"$", pins, re.M)
    assert re.search(r"^Wheelhouse .*: \d+ wheels, \d+ MiB, in [\d.]+ s\.", out, re.M)
    laptop = Kit(tmp_path / "laptop")
    (laptop.folder / ".venv").mkdir()  # and a .venv left broken, as by an install cut short
    code, out, err = laptop.run("demo", machine=offline_machine)
    assert code == 1 and one_line(err) == ("kit: The .venv folder is broken (it has no .venv/bin/python). "
                                           "Make it again with: python3 tools/kit.py setup")
    code, out, err = laptop.run("setup", machine=offline_machine)
    assert code == 1 and one_line(err).startswith(
        "kit: pip cannot reach the package index (no network, or one that blocks it; pip's output: "
        ".venv/kit-pip.log). Connect to the internet and run this again, or install from a USB stick: "
        "python3 tools/kit.py setup --offline DIR")
    shutil.copytree(tmp_path / "wheels", tmp_path / "no-pygame", ignore=shutil.ignore_patterns("pygame_ce-*"))
    code, out, err = laptop.run("setup", "--offline", tmp_path / "no-pygame", machine=offline_machine)
    where = re.escape(str(tmp_path / "no-pygame"))
    assert code == 1 and re.fullmatch(fr"kit: {where} has no wheel of pygame-ce for Python "
                                      r"3\.\d+ on this system\. Make the wheelhouse again on a machine with a "
                                      r"network \(python3 tools/kit\.py wheelhouse DIR\), or use another Python\.",
                                      one_line(err)), err
    code, out, err = laptop.run("setup", "--offline", tmp_path / "wheels", machine=offline_machine)
    assert code == 0 and err == "", out + err
    assert re.search(r"^Installed in [\d.]+ s\.$", out, re.M)
    code, out, err = laptop.run("check", machine=offline_machine, timeout=TIMEOUT)
    assert code == 0 and "Ready" in out, out + err
    assert not laptop.venv_has("pytest")

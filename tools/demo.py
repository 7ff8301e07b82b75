"""Start one stage's server and two game windows side by side, then tidy up.

    python tools/demo.py [--stage N|FOLDER] [--port PORT] [--lag MS [--jitter MS]] [--loss PCT] [--wire]

`make demo` runs the last stage; `make demo STAGE=2` runs stage 2; --stage FOLDER
runs a copy of a stage (a student's tag, lesson 10). The server's log shows in
this terminal. The left window opens first, and the right one once the left is in
the server's queue, 1.5 s later: so the left window is always player 0, and shows
`waiting for an opponent` for a moment. Close both windows (or press Ctrl+C here) to stop.
With --lag MS (`make demo STAGE=4 LAG=100`), the games connect through
tools/lagproxy.py on PORT+1, which delays every byte MS milliseconds each way.
--jitter MS (`make demo STAGE=4 LAG=100 JITTER=30`) varies each of those delays
by up to MS milliseconds either way, so it needs a --lag at least as large: a
byte cannot arrive before it is sent. Without one, nothing starts.
--loss PCT (`make demo STAGE=4 LOSS=2`) loses that percentage of what crosses,
and TCP resends it: everything behind a loss waits for it
(docs/handouts/lesson-9-head-of-line.md). --wire (`make demo STAGE=4 WIRE=1`) prints every
message in this terminal as it crosses. Each of these puts the proxy between
the games and the server, with or without a lag.
"""
import argparse
import os
import signal
import subprocess
import sys
import threading
import time

from stages import ROOT, STAGES, stage_folder  # the kit's folder, {4: "stage4_relay", ...}, --stage's folder

WINDOW_LEFT_EDGES = (40, 700)  # two 640-pixel windows, side by side
WINDOW_NAMES = ("left window", "right window")  # as the server's log names them
ALONE_SECONDS = 1.5  # how long the left window waits alone, so that its `waiting for an opponent` is seen


def copy_lines(pipe, joined=None):
    for line in pipe:  # the server's log, shown in this terminal
        print(line, end="", flush=True)
        if joined is not None and " joined (" in line:
            joined.set()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default=str(max(STAGES)), metavar="N|FOLDER",
                        help="a stage's number, or a folder with a server.py and a game.py (a copy of a stage)")
    parser.add_argument("--port", type=int, default=31425)
    parser.add_argument("--lag", type=float, default=0, help="milliseconds of delay each way")
    parser.add_argument("--jitter", type=float, default=0, help="up to this many ms more or less")
    parser.add_argument("--loss", type=float, default=0, help="percent of chunks lost and resent")
    parser.add_argument("--wire", action="store_true", help="print every message as it crosses")
    args = parser.parse_args()
    if args.jitter > args.lag:  # the proxy would refuse it too, after the server had started
        parser.exit(2, f"--jitter {args.jitter:g} needs a --lag of at least {args.jitter:g} ms "
                       f"(--lag {args.jitter:g} --jitter {args.jitter:g}): "
                       "a byte cannot arrive before it is sent.\n")
    if not 0 <= args.loss < 100:
        parser.exit(2, f"--loss {args.loss:g} is not a percentage from 0 up to (not including) 100: "
                       "at 100, nothing would ever arrive.\n")
    stage = stage_folder(args.stage)
    if stage is None:
        parser.exit(2, f"--stage {args.stage}: give a stage from {min(STAGES)} to {max(STAGES)}, or a folder "
                       f"with a server.py and a game.py.\n")
    server = subprocess.Popen([sys.executable, f"{stage}/server.py", "--port", str(args.port)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    for line in server.stdout:  # show its lines up to the one that says it is listening
        print(line, end="", flush=True)
        if "listening" in line:
            break
    else:
        return server.wait() or 1  # it has already said why, in one line
    helpers, game_port = [server], args.port
    if args.lag or args.loss or args.wire:  # the games talk to the proxy, and the proxy to the server
        game_port = args.port + 1
        proxy = subprocess.Popen([sys.executable, "tools/lagproxy.py", "--listen", str(game_port),
                                  "--server", f"127.0.0.1:{args.port}", "--delay", str(args.lag),
                                  "--jitter", str(args.jitter), "--loss", str(args.loss)]
                                 + ["--wire"] * args.wire,
                                 cwd=ROOT, stdout=subprocess.PIPE, text=True)
        helpers.append(proxy)
        first_line = proxy.stdout.readline()
        print(first_line, end="", flush=True)
        if "lag proxy on" not in first_line:
            server.terminate()
            return proxy.wait() or 1
    joined = threading.Event()  # the server has logged the first game's hello
    for helper in helpers:
        threading.Thread(target=copy_lines, args=(helper.stdout, joined if helper is server else None),
                         daemon=True).start()
    games = []
    for left, name in zip(WINDOW_LEFT_EDGES, WINDOW_NAMES):  # the second once the first waits: it is player 0
        while games and not joined.wait(0.1) and games[0].poll() is None:
            pass
        if games:
            time.sleep(ALONE_SECONDS)
        games.append(subprocess.Popen([sys.executable, f"{stage}/game.py", "--port", str(game_port),
                                       "--name", name], cwd=ROOT, env={**os.environ, "SDL_VIDEO_WINDOW_POS": f"{left},80"}))
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` tidies up like Ctrl+C
    try:
        for game in games:
            game.wait()
    except KeyboardInterrupt:
        pass
    for process in games + helpers:
        if process.poll() is None:
            process.terminate()
        process.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

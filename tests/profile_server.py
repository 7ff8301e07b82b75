"""make profile: where a relaying server's time goes, per move, in stage 4 and stage 5.

    python tests/profile_server.py [--games N] [--seconds S] [--repetitions N]

It loads each server as make bench does for its CPU figure (60 games, each
player moving 60 times a second, the moves spread over the frame), and then
nearer its capacity (250 games, 30 moves a second), and
samples the server's stack 500 times a second with py-spy (`pip install
py-spy`; make profile installs it into .venv).
Each sample is put in one part of the work, by the innermost of its frames that
names one (PARTS, below), and each part's share of the samples is turned into
CPU milliseconds per 1000 moves, from the server's CPU time over the same
window. The repetitions run in turn, stage 4 then stage 5, and the table gives
their medians. py-spy leaves out samples where the server waits in poll(), so
only the CPU's work is counted. The server also counts the turns of its loop
(tests/run_as.py --turns): a turn costs what was ready in it, plus its own
small price.
The tables are kept in docs/bench/profile.txt.
"""
import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter

from bench import CPU_GAMES, CPU_RATE, LOAD_RATE, ROOT, loaded_run, servers

# The parts of a server's work, each named by the functions that do it, as
# (function, file). A sample goes to the part of the innermost of its frames
# that names one: dumps() called by Send() is encoding, Send()'s own time is
# sending. The first three are paid once a move, or once a message sent; the
# last two once a turn of the loop, for what was ready in it.
PARTS = [
    ("the lesson: Network_move() and moved()", {("Network_move", "server.py"), ("moved", "server.py"),
                                                ("clamp", "server.py")}),
    ("read and decode the move: recv(), split, loads()", {
        ("loads", "rencode.py"), ("handle_read", "asynchat.py"), ("recv", "asyncore.py"),
        ("handle_read_event", "asyncore.py"), ("readwrite", "asyncore.py"),
        ("collect_incoming_data", "server.py"), ("found_terminator", "server.py"), ("serve_ready", "server.py"),
        ("read", "asyncore.py")}),
    ("encode and send each message: dumps(), Send(), send()", {
        ("dumps", "rencode.py"), ("Send", "Channel.py"), ("push", "asynchat.py"),
        ("initiate_send", "asynchat.py"), ("send", "asyncore.py"), ("handle_write", "asyncore.py"),
        ("handle_write_event", "asyncore.py"), ("Send", "server.py"), ("write", "asyncore.py")}),
    ("the turn: Pump(), for the channels that queued messages, and their unsent-bytes check", {
        ("Pump", "server.py"), ("Pump", "Channel.py"), ("pump", "server.py"), ("unsent_bytes", "server.py"),
        ("joined", "server.py")}),
    ("the turn: wait() asks the OS which sockets are ready; watch() keeps what it waits for", {
        ("wait", "server.py"), ("watch", "server.py"), ("unwatch", "server.py"), ("poll", "server.py"),
        ("poll2", "asyncore.py"), ("poll", "asyncore.py"), ("readable", "asynchat.py"),
        ("writable", "asynchat.py"), ("readable", "asyncore.py"), ("writable", "asyncore.py"),
        ("readable", "server.py")}),
]
OTHER = "the rest"


def part_of(stack):
    """The part a sample belongs to. py-spy gives its frames outermost first, each as
    'Class.function (path/file.py:line)' (before Python 3.11, without the class)."""
    for frame in reversed(stack):
        name, _, where = frame.rpartition(" (")
        function = name.split(".<locals>")[0].rsplit(".", 1)[-1]
        key = (function, os.path.basename(where.rsplit(":", 1)[0]))
        for part, functions in PARTS:
            if key in functions:
                return part
    return OTHER


class Watch:
    """py-spy on a server for `seconds`, and the turns its loop made meanwhile."""

    def __init__(self, py_spy, raw, process, seconds):
        self.process, self.began = process, time.monotonic()
        self.turns_before = self.turns_so_far()
        self.py_spy = subprocess.Popen([py_spy, "record", "--pid", str(process.proc.pid),
                                        "--duration", str(int(seconds)), "--rate", "500", "--nonblocking",
                                        "--format", "raw", "--output", raw],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def turns_so_far(self):
        after = len(self.process.out.lines)
        self.process.proc.send_signal(signal.SIGUSR1)  # tests/run_as.py --turns prints "turns: N"
        return int(self.process.out.wait_for(r"^turns: (\d+)", after=after).group(1))

    def wait(self):
        self.py_spy.wait()
        self.turns = self.turns_so_far() - self.turns_before
        self.seconds = time.monotonic() - self.began


def profile(server, games, seconds, py_spy):
    """One loaded run under py-spy: CPU ms per 1000 moves, {part: share of samples},
    samples, and turns of the loop per 1000 moves."""
    with tempfile.TemporaryDirectory() as folder:
        raw = os.path.join(folder, "samples.txt")
        watches = []

        def watch(process, seconds_):
            watches.append(Watch(py_spy, raw, process, seconds_))
            return watches[-1]

        rate = CPU_RATE if games == CPU_GAMES else LOAD_RATE
        step = loaded_run(server._replace(options=dict(server.options, turns=True)), games, seconds, watch=watch,
                          rate=rate)
        samples = Counter()
        with open(raw) as lines:
            for line in lines:
                stack, _, count = line.rstrip("\n").rpartition(" ")
                if stack:
                    samples[part_of(stack.split(";"))] += int(count)
    total, moves = sum(samples.values()), step["moves_per_s"] / 1000
    return {"cpu": step["server_cpu"] / moves * 1000, "shares": {part: n / total for part, n in samples.items()},
            "samples": total, "turns": watches[0].turns / watches[0].seconds / moves}


def table(runs, games):
    """Markdown: each part's CPU ms per 1000 moves in stage 4 and stage 5, medians over the runs."""
    median = statistics.median
    four, five = runs["stage4_relay"], runs["stage5_optimized"]
    lines = [f"CPU ms per 1000 moves at {games} games, by part (medians of {len(four)} runs; py-spy samples "
             f"per run: {', '.join(str(run['samples']) for run in four + five)}):", "",
             "| part of the work | `stage4_relay` | `stage5_optimized` | saved |", "|---|---|---|---|"]
    for part in [part for part, _ in PARTS] + [OTHER]:
        cost = [median(run["cpu"] * run["shares"].get(part, 0.0) for run in runs_) for runs_ in (four, five)]
        lines.append(f"| {part} | {cost[0]:.0f} | {cost[1]:.0f} | {cost[0] - cost[1]:.0f} |")
    cpu = [median(run["cpu"] for run in runs_) for runs_ in (four, five)]
    lines.append(f"| all of it | {cpu[0]:.0f} | {cpu[1]:.0f} | {cpu[0] - cpu[1]:.0f} ({1 - cpu[1] / cpu[0]:.0%}) |")
    turns = [median(run["turns"] for run in runs_) for runs_ in (four, five)]
    lines.append(f"| turns of the loop per 1000 moves | {turns[0]:.0f} | {turns[1]:.0f} | |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description="Where stage 4's and stage 5's servers spend their time.")
    parser.add_argument("--games", type=int, nargs="+", default=[CPU_GAMES, 250],
                        help="the loads to profile at (default: %(default)s)")
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--output", default=str(ROOT / "docs" / "bench" / "profile.txt"),
                        help="where to keep the tables (default: %(default)s)")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(py_spy):
        print("This needs py-spy: pip install py-spy (make profile installs it).", file=sys.stderr)
        return 1
    relaying = [server for server in servers(2000) if server.name in ("stage4_relay", "stage5_optimized")]
    tables = []
    for games in args.games:
        runs = {server.name: [] for server in relaying}
        for _ in range(args.repetitions):
            for server in relaying:
                runs[server.name].append(profile(server, games, args.seconds, py_spy))
        tables.append(table(runs, games))
    print("\n" + "\n\n".join(tables))
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as record:
        record.write(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, Python {platform.python_version()}\n\n"
                     + "\n\n".join(tables) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

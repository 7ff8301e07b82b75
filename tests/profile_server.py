"""make profile: where a relaying server's time goes, per move, in stage 4 and stage 5.

    python tests/profile_server.py [--games N] [--seconds S] [--repetitions N]

It loads each server as make bench does for its CPU figure (100 games, each
player moving 30 times a second), and samples the server's stack 500 times a
second with py-spy (`pip install py-spy`; make profile installs it into .venv).
Each sample is put in one part of the work, by the innermost of its frames that
names one (PARTS, below), and each part's share of the samples is turned into
CPU milliseconds per 1000 moves, from the server's CPU time over the same
window. The repetitions run in turn, stage 4 then stage 5, and the table gives
their medians. py-spy leaves out samples where the server waits in poll(), so
only the CPU's work is counted.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter

from bench import CPU_GAMES, loaded_run, servers

# The parts of a server's work, each named by the functions that do it, as
# (function, file). A sample goes to the part of the innermost of its frames
# that names one: dumps() called by Send() is encoding, Send()'s own time is
# sending. The first three are paid once a move, or once a message sent; the
# last two on every turn of the loop, for every player, whatever arrived.
PARTS = [
    ("the lesson: Network_move() and moved()", {("Network_move", "server.py"), ("moved", "server.py"),
                                                ("clamp", "server.py")}),
    ("read and decode the move: recv(), split, loads()", {
        ("loads", "rencode.py"), ("handle_read", "asynchat.py"), ("recv", "asyncore.py"),
        ("handle_read_event", "asyncore.py"), ("readwrite", "asyncore.py"),
        ("collect_incoming_data", "server.py"), ("found_terminator", "server.py")}),
    ("encode and send each message: dumps(), Send(), send()", {
        ("dumps", "rencode.py"), ("Send", "Channel.py"), ("push", "asynchat.py"),
        ("initiate_send", "asynchat.py"), ("send", "asyncore.py"), ("handle_write", "asyncore.py"),
        ("handle_write_event", "asyncore.py")}),
    ("every turn, every player: Pump() and its unsent-bytes check", {
        ("Pump", "server.py"), ("Pump", "Channel.py"), ("unsent_bytes", "server.py")}),
    ("every turn, every socket: poll2() asks the OS which are ready", {
        ("poll2", "asyncore.py"), ("poll", "asyncore.py"), ("readable", "asynchat.py"),
        ("writable", "asynchat.py"), ("readable", "asyncore.py"), ("writable", "asyncore.py")}),
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


def profile(server, games, seconds, py_spy):
    """One loaded run under py-spy: (CPU ms per 1000 moves, {part: share of samples})."""
    with tempfile.TemporaryDirectory() as folder:
        raw = os.path.join(folder, "samples.txt")

        def watch(pid, seconds_):
            return subprocess.Popen([py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds_)),
                                     "--rate", "500", "--nonblocking", "--format", "raw", "--output", raw],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        step = loaded_run(server, games, seconds, watch=watch)
        samples = Counter()
        with open(raw) as lines:
            for line in lines:
                stack, _, count = line.rstrip("\n").rpartition(" ")
                if stack:
                    samples[part_of(stack.split(";"))] += int(count)
    total = sum(samples.values())
    return step["server_cpu"] / step["moves_per_s"] * 1e6, {part: n / total for part, n in samples.items()}, total


def main():
    parser = argparse.ArgumentParser(description="Where stage 4's and stage 5's servers spend their time.")
    parser.add_argument("--games", type=int, default=CPU_GAMES)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--repetitions", type=int, default=3)
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    if not os.path.exists(py_spy):
        print("This needs py-spy: pip install py-spy (make profile installs it).", file=sys.stderr)
        return 1
    relaying = [server for server in servers(2000) if server.name in ("stage4_relay", "stage5_optimized")]
    runs = {server.name: [] for server in relaying}
    for _ in range(args.repetitions):
        for server in relaying:
            runs[server.name].append(profile(server, args.games, args.seconds, py_spy))
    names = [part for part, _ in PARTS] + [OTHER]
    print(f"\nCPU ms per 1000 moves at {args.games} games, by part (medians of {args.repetitions} runs; "
          f"samples per run: {', '.join(str(n) for name in runs for _, _, n in runs[name])}):\n")
    print("| part of the work | " + " | ".join(f"`{name}`" for name in runs) + " | saved |")
    print("|---|" + "---|" * len(runs) + "---|")
    totals = {name: statistics.median(cpu for cpu, _, _ in runs[name]) for name in runs}
    for part in names:
        cost = {name: statistics.median(cpu * shares.get(part, 0.0) for cpu, shares, _ in runs[name])
                for name in runs}
        four, five = cost["stage4_relay"], cost["stage5_optimized"]
        print(f"| {part} | {four:.0f} | {five:.0f} | {four - five:.0f} |")
    four, five = totals["stage4_relay"], totals["stage5_optimized"]
    print(f"| all of it | {four:.0f} | {five:.0f} | {four - five:.0f} ({1 - five / four:.0%}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""make bench: what the stage-5 optimisation buys, measured on real traffic over loopback.

    python tests/bench.py [--seconds S] [--repetitions N] [--max-games N] [--chart PNG]
                          [--cpu-only] [--against FOLDER ...]
    python tests/bench.py --view [--seconds S] [--repetitions N]

It starts each stage's real server.py, and a baseline: stage 5's server with
its loop swapped for the one in PodSixNet's own examples, Pump() then
sleep(0.0001) (tests/run_as.py --podsixnet-loop). For each, in one run:
  * messages and bytes the server sends per move, counted at a probe pair's
    sockets (one player moving 60 times a second, the other watching);
  * server CPU seconds per 1000 moves, with 60 games of players each moving
    60 times a second, as a held key does: the median of --repetitions runs,
    and their spread. Twice: with the moves spread evenly over each frame, as a
    room's laptops send them (the figure that counts; each player's place in
    the frame is shuffled, so that the two players of a game do not move one
    just after the other: nothing in a room keeps them in step), and with all
    of them at once each frame, when one turn of the loop reads many. A loop whose turn
    costs what is ready, not how many are connected, costs about the same
    both ways; make profile shows where the time goes;
  * games held: the most games at 30 moves a second while the server keeps up, that is
    while the probe's median (p50) relay latency stays under 16 ms, one frame.
    (Its p99 is shown too, but on a shared machine it is set by the machine:
    the share of CPU time the machine itself lost, "steal", is printed for every
    step.) The first search starts at 100 games and steps by half, up or down,
    then bisects twice; each repetition after it starts where the first ended,
    and steps by a tenth until the answer changes. Median and spread again;
  * idle CPU: the server's share of a core with two players connected and still;
  * latency with one game: the probe, timed from the move leaving one client
    to the opponent having it (stages 1-3 have no moves, so there it times the
    echo round trip instead). These two are measured 3 times as well, in turn,
    since one 3-second run's p50 moves by a tenth of a millisecond: medians.
The relaying servers are measured in turn at every step, so that a machine
that slows down slows them all. The load comes from worker processes; each
reports the move rate it reached and its CPU, so a load generator that falls
behind is seen, not hidden. Every loaded run's p50 and p99 are drawn against
its number of games in docs/bench/latency.png, and all that is printed is kept
in docs/bench/bench.txt. Absolute times drift on a shared
machine; compare the ratios, from one run. --cpu-only measures only the one
game (idle CPU, latency) and the CPU figures, and skips the search for games held.

--against FOLDER measures stages 4 and 5 of another checkout of the kit as
well (an older commit, a student's changed copy), in turn with this one's, at
every step: builds compared in one run, where a machine's drift slows all of
them alike. Their rows are named "stage5_optimized at COMMIT" (or the folder's
name), each build gets its own ratios, and the run is kept in
docs/bench/against.txt, with no chart; bench.txt and the chart stay this
checkout's alone. `make bench AGAINST=FOLDER` does the same.

--view measures only what the teacher's class view (tools/classview.py) costs
the server: CPU per 1000 moves at VIEW_GAMES games, stage 4's and stage 5's
server.py alone and in the view with its window (SDL's dummy driver when
headless), in turn; and the window process's own CPU. It keeps what it prints
in docs/bench/classview.txt.
"""
import argparse
import multiprocessing
import subprocess
import os
import platform
import random
import resource
import selectors
import socket
import statistics
import sys
import time
from collections import namedtuple

from harness import HELLO, LOOPBACK, ROOT, STAGES, ServerProcess, cpu_seconds, decode, encode, stage_number

FRAME_MS = 16.0   # one frame at 60 FPS: the latency budget
LOAD_RATE = 30    # moves per second per loaded player, in the search for games held
WORKERS = 2       # load generator processes
CPU_GAMES = 60    # the load at which CPU per 1000 moves is measured: the servers are not yet busy
CPU_RATE = 60     # and each player's moves a second there: a held key, one a frame
SPREAD, TOGETHER = "spread", "together"  # how a frame's moves arrive: evenly over it, or all at its start
PLACES_SEED = 0   # the shuffle of the players' places in the frame (spread): the same in every run
FIRST_SEARCH = (100, 1.5, 2)        # games held: start here, step by half, then bisect twice
REPEATED_SEARCH = (1.1, 0)          # start where the first ended, step by a tenth, no bisection
SELECT_GAMES = 500  # PodSixNet's own Pump() uses select(), which takes no socket numbered 1024 or more
VIEW_GAMES = 20     # the load at which --view compares a server alone and in the class view
VIEW_STATE = os.path.join(ROOT, ".pytest_cache", "bench-view.json")  # where the view's window says its pid

Server = namedtuple("Server", "name stage options max_games")
BASELINE = "PodSixNet's loop"
RELAYING = ("stage4_relay", "stage5_optimized")


def servers(max_games, against=()):
    """What is measured: every stage, then stage 5 with PodSixNet's own loop, then
    stages 4 and 5 of each other checkout (--against)."""
    rows = [Server(stage, stage, {}, max_games) for stage in STAGES]
    rows.append(Server(BASELINE, "stage5_optimized", {"podsixnet_loop": True}, min(max_games, SELECT_GAMES)))
    for folder in against:
        rows += [Server(f"{stage} at {build(folder)}", os.path.join(os.path.abspath(folder), stage), {}, max_games)
                 for stage in RELAYING]
    return rows


def build(folder):
    """Which build a checkout is: its commit (with "+" if its files have changes, leaving out
    docs/bench, which a run itself rewrites), or else its folder's name."""
    def git(*args):
        return subprocess.run(["git", "-C", folder, *args], capture_output=True, text=True).stdout.strip()
    commit = git("log", "-1", "--format=%h")
    return commit + "+" * bool(git("status", "--porcelain", "--untracked-files=no", "--", ":(top)", ":(top,exclude)docs/bench")) if commit else os.path.basename(os.path.abspath(folder))


class Tee:
    """Standard output, copied to a file as well: the run's record beside its chart."""

    def __init__(self, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.screen, self.file = sys.stdout, open(path, "w", encoding="utf-8")

    def write(self, text):
        self.screen.write(text)
        self.file.write(text)

    def flush(self):
        self.screen.flush()
        self.file.flush()


class Client:
    """A bare client speaking PodSixNet's wire format on a plain socket, from a loopback
    address of its own (as if each were a laptop), which says hello as game.py does and
    waits for its echo: what arrived before it is kept for wait_for()."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.bind((next(LOOPBACK), 0))
        self.sock.connect(("127.0.0.1", port))
        self.buffer, self.messages, self.bytes = b"", 0, 0
        self.start, self.unread = None, []
        self.send(HELLO)
        early = []
        while (message := self.next_message()) != HELLO:
            early.append(message)
        self.unread[:0] = early

    def send(self, message):
        self.sock.sendall(encode(message))

    def read(self):
        """Whatever has arrived, as messages; call only when the socket is readable."""
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.bytes += len(data)
        messages, self.buffer = decode(self.buffer + data)
        self.messages += len(messages)
        return messages

    def next_message(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not self.unread:
            self.sock.settimeout(max(0.001, deadline - time.monotonic()))
            self.unread = self.read()
        self.sock.settimeout(None)
        return self.unread.pop(0)

    def wait_for(self, action, timeout=10.0):
        deadline = time.monotonic() + timeout
        while (message := self.next_message(deadline - time.monotonic())).get("action") != action:
            pass
        return message

    def move(self, dx):
        self.send({"action": "move", "gameID": self.start["gameID"],
                   "player": self.start["player"], "dx": dx, "dy": 0})


def start(server, *args):
    view = ["--state", VIEW_STATE] if server.options.get("view") else []
    return ServerProcess(server.stage, *args, *view, **server.options)


def probe_pair(port, stage):
    mover, watcher = Client(port), Client(port)
    if stage_number(stage) >= 2:
        mover.start, watcher.start = mover.wait_for("startgame"), watcher.wait_for("startgame")
    return mover, watcher


def probe(mover, watcher, stage, seconds):
    """Latencies in ms, paced at 60 a second; and the server's messages and bytes per move."""
    relays = stage_number(stage) >= 4
    reply = {4: "positions", 5: "position"}.get(stage_number(stage), "echo")
    before = [(c.messages, c.bytes) for c in (mover, watcher)]
    latencies, dx = [], 4
    deadline = time.monotonic() + seconds
    next_at = time.monotonic()
    while time.monotonic() < deadline:
        sent = time.perf_counter()
        if relays:
            mover.move(dx)
            dx = -dx  # back and forth, so the arena's walls never clamp
            watcher.wait_for(reply)
        else:
            mover.send({"action": "echo", "text": "probe"})
            mover.wait_for("echo")
        latencies.append((time.perf_counter() - sent) * 1000)
        drain(mover, watcher)
        next_at += 1 / 60
        time.sleep(max(0.0, next_at - time.monotonic()))  # pacing, like a held key
    drain(mover, watcher, settle=0.05)
    sent = [(c.messages - m, c.bytes - b) for c, (m, b) in zip((mover, watcher), before)]
    moves = len(latencies)
    per_move = (sum(m for m, _ in sent) / moves, sum(b for _, b in sent) / moves) if relays else None
    return latencies, per_move


def drain(*clients, settle=0.0):
    """Read whatever has arrived (stage 4 also tells the mover), waiting up to settle seconds."""
    selector = selectors.DefaultSelector()
    for client in clients:
        selector.register(client.sock, selectors.EVENT_READ, client)
    while True:
        ready = selector.select(settle)
        if not ready:
            break
        for key, _ in ready:
            key.data.read()
    selector.close()


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def load_worker(port, games, seconds, ready, go, results, rate=LOAD_RATE, arrive=SPREAD):
    """Play `games` games' worth of players, each moving `rate` times a second: the
    players' moves spread evenly over each 1/rate s, or all of them at its start."""
    clients = [Client(port) for _ in range(2 * games)]
    for client in clients:
        client.start = client.wait_for("startgame", timeout=60)
    ready.release()
    go.wait()
    selector = selectors.DefaultSelector()
    for client in clients:
        client.sock.setblocking(False)
        selector.register(client.sock, selectors.EVENT_READ, client)
    interval = 1 / rate
    started = time.monotonic()
    places = list(range(len(clients)))  # each player's place in the frame: the two of a game are not neighbours
    random.Random(PLACES_SEED).shuffle(places)  # (they joined one after the other), nor are they in a room
    due = [started + (interval * places[index] / len(clients) if arrive == SPREAD else 0)
           for index in range(len(clients))]
    moves, dx = 0, [4] * len(clients)
    cpu = time.process_time()
    while time.monotonic() - started < seconds:
        now = time.monotonic()
        for index, client in enumerate(clients):
            if due[index] <= now:
                client.move(dx[index])
                dx[index], due[index], moves = -dx[index], due[index] + interval, moves + 1
        for key, _ in selector.select(max(0.0, min(due) - time.monotonic())):
            try:
                key.data.read()
            except BlockingIOError:
                pass
    elapsed = time.monotonic() - started
    results.put({"moves": moves, "seconds": elapsed, "cpu": time.process_time() - cpu})
    for client in clients:
        client.sock.close()


def machine_times():
    """This machine's CPU time so far, in ticks: (all of it, what a hypervisor took: steal)."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    return sum(ticks), ticks[7]


def loaded_run(server, games, seconds, watch=None, rate=LOAD_RATE, arrive=SPREAD):
    """One fresh server, the probe pair, then `games` loaded games, each player moving
    `rate` times a second, `arrive` (SPREAD or TOGETHER); what the probe saw.
    watch(server process, seconds), if given, is called as the probe starts, and
    what it returns is waited for (wait()) as the probe ends: a profiler, say."""
    process = start(server, "--max-players", 2 * games + 2)
    try:
        mover, watcher = probe_pair(process.port, server.stage)  # first, so they pair with each other
        context = multiprocessing.get_context("fork")
        ready, go, results = context.Semaphore(0), context.Event(), context.Queue()
        shares = [games // WORKERS + (1 if i < games % WORKERS else 0) for i in range(WORKERS)]
        workers = [context.Process(target=load_worker, args=(process.port, share, seconds + 1, ready, go, results, rate, arrive))
                   for share in shares if share]
        for worker in workers:
            worker.start()
        for _ in workers:
            ready.acquire(timeout=120)
        go.set()
        time.sleep(0.5)  # let the load reach its pace before the probe measures it
        watching = watch(process, seconds) if watch else None
        cpu_before, machine_before, began = cpu_seconds(process.proc.pid), machine_times(), time.monotonic()
        latencies, _ = probe(mover, watcher, server.stage, seconds)
        if watching:
            watching.wait()
        server_cpu = (cpu_seconds(process.proc.pid) - cpu_before) / (time.monotonic() - began)
        (total, steal) = (after - before for after, before in zip(machine_times(), machine_before))
        loads_ = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join()
        alive = process.proc.poll() is None
    finally:
        process.stop()
    target = 2 * games * rate
    achieved = sum(r["moves"] / r["seconds"] for r in loads_)
    step = {"games": games, "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
            "server_cpu": server_cpu, "load_cpu": sum(r["cpu"] / r["seconds"] for r in loads_),
            "rate": achieved / target, "moves_per_s": achieved, "alive": alive, "steal": steal / max(1, total)}
    step["holds"] = step["p50"] < FRAME_MS and step["rate"] >= 0.95
    how = "" if (rate, arrive) == (LOAD_RATE, SPREAD) else f" ({rate}/s, {arrive})"
    print(f"  {server.name:<18} {games:4d} games{how}  p50 {step['p50']:6.2f} ms  p99 {step['p99']:7.2f} ms  "
          f"server {step['server_cpu']:4.0%}  load generator {step['load_cpu']:4.0%} "
          f"(reached {step['rate']:4.0%} of its rate)  steal {step['steal']:3.0%}  "
          f"server alive: {step['alive']}", flush=True)
    return step


class Search:
    """One search for the most games a server holds. It starts at `games`, and steps
    up (or down) by `factor` until the answer changes, then bisects between the
    most held and the fewest not held, `bisections` times. `games` is the load
    to try next, and told() takes its result."""

    def __init__(self, server, games, factor, bisections):
        self.server, self.factor, self.bisections = server, factor, bisections
        self.games, self.held, self.failed, self.done = min(games, server.max_games), 0, None, False

    def told(self, games, holds):
        if holds:
            self.held = games
        else:
            self.failed = games
        if self.failed is None:  # held so far: up, to where the search stops
            self.done = games >= self.server.max_games
            self.games = min(self.server.max_games, max(games + 1, round(games * self.factor)))
        elif self.held == 0:  # failed so far: down
            self.done = games == 1
            self.games = max(1, min(games - 1, round(games / self.factor)))
        else:
            middle = (self.held + self.failed) // 2
            self.done = self.bisections == 0 or middle in (self.held, self.failed)
            self.games, self.bisections = middle, self.bisections - 1

    def result(self):
        """The most games held, and whether that is where the search stops."""
        return self.held, self.failed is None


def measure_one_game(server, seconds):
    process = start(server)
    try:
        mover, watcher = probe_pair(process.port, server.stage)
        before, started = cpu_seconds(process.proc.pid), time.monotonic()
        time.sleep(seconds)  # the idle window being measured
        idle = (cpu_seconds(process.proc.pid) - before) / (time.monotonic() - started)
        latencies, per_move = probe(mover, watcher, server.stage, seconds)
    finally:
        process.stop()
    row = {"idle": idle, "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
           "per_move": per_move}
    print(f"  {server.name:<18} idle {idle:.1%}, one game p50 {row['p50']:.3f} ms, p99 {row['p99']:.3f} ms "
          f"({len(latencies)} samples)", flush=True)
    return row


def spread(values):
    """The median, and the range it is the middle of: 0.242 (0.231–0.250), or 439 (414–465)."""
    values = sorted(values)
    form = "{:.0f}" if all(isinstance(value, int) for value in values) else "{:.3f}"
    return f"{form.format(statistics.median(values))} ({form.format(values[0])}–{form.format(values[-1])})"


class WindowCpu:
    """The class view's window process: its CPU seconds a second while the probe runs (loaded_run's watch)."""

    def __init__(self, process, seconds):
        import json
        deadline = time.monotonic() + 60
        while True:  # the window writes its pid once it shows the server's first snapshot
            try:
                with open(VIEW_STATE, encoding="utf-8") as state:
                    self.pid = json.load(state)["window"]["pid"]
                break
            except (OSError, ValueError, KeyError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.before, self.began = cpu_seconds(self.pid), time.monotonic()

    def wait(self):
        self.share = (cpu_seconds(self.pid) - self.before) / (time.monotonic() - self.began)


def measure_view(args):
    sys.stdout = Tee(os.path.join(ROOT, "docs", "bench", "classview.txt"))
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, Python {platform.python_version()}", flush=True)
    print(f"The class view's cost: server CPU per 1000 moves, {VIEW_GAMES} games, {args.repetitions} times "
          "each, in turn:", flush=True)
    measured = [Server(f"{stage} {how}", stage, {"view": True} if how == "in the view" else {}, VIEW_GAMES)
                for stage in ("stage4_relay", "stage5_optimized") for how in ("alone", "in the view")]
    cpu, window = {server.name: [] for server in measured}, {server.name: [] for server in measured}
    for _ in range(args.repetitions):
        for server in measured:
            watched = []

            def watch(process, seconds):
                if server.options:
                    watched.append(WindowCpu(process, seconds))
                    return watched[-1]
            step = loaded_run(server, VIEW_GAMES, args.seconds, watch)
            cpu[server.name].append(step["server_cpu"] / step["moves_per_s"] * 1000)
            window[server.name] += [watching.share for watching in watched]
    print()
    for server in measured:
        line = f"{server.name:<32} CPU s per 1000 moves {spread(cpu[server.name])}"
        if window[server.name]:
            line += f"; its window {spread(window[server.name])} of a core"
        print(line)
    for stage in ("stage4_relay", "stage5_optimized"):
        ratios = [viewed / alone for alone, viewed in zip(cpu[f"{stage} alone"], cpu[f"{stage} in the view"])]
        print(f"{stage}: in the view / alone, run by run: {', '.join(f'x{r:.2f}' for r in ratios)}; "
              f"median x{statistics.median(ratios):.2f}")
    return 0


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # room for the load's sockets
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    parser = argparse.ArgumentParser(description="Benchmark every stage's server, and PodSixNet's own loop.")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each measurement")
    parser.add_argument("--repetitions", type=int, default=3, help="of every measurement")
    parser.add_argument("--max-games", type=int, default=2000, help="where the capacity search stops")
    parser.add_argument("--chart", default=str(ROOT / "docs" / "bench" / "latency.png"),
                        help="where to draw latency by games")
    parser.add_argument("--cpu-only", action="store_true",
                        help="only the one game and the CPU per 1000 moves, not the search for games held")
    parser.add_argument("--against", action="append", default=[], metavar="FOLDER",
                        help="also measure stages 4 and 5 of this checkout of the kit, in turn with these")
    parser.add_argument("--view", action="store_true",
                        help=f"only the class view's cost: {VIEW_GAMES} games, each server alone and in the view")
    args = parser.parse_args()
    if args.view:
        return measure_view(args)
    for folder in args.against:
        if not all(os.path.isfile(os.path.join(folder, stage, "server.py")) for stage in RELAYING):
            parser.error(f"{folder} is not a checkout of the kit: it has no {RELAYING[0]}/server.py "
                         f"and {RELAYING[1]}/server.py")
    record = "against.txt" if args.against else "bench.txt"
    sys.stdout = Tee(os.path.join(os.path.dirname(os.path.abspath(args.chart)), record))
    began, machine_at_start = time.monotonic(), machine_times()
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"this checkout at {build(ROOT)}", flush=True)
    measured = servers(args.max_games, args.against)
    relaying = [server for server in measured if stage_number(server.stage) >= 4]
    games = {server.name: [] for server in measured}
    for _ in range(args.repetitions):
        for server in measured:
            games[server.name].append(measure_one_game(server, args.seconds))
    rows = {name: {"idle": statistics.median(run["idle"] for run in runs),
                   "p50": statistics.median(run["p50"] for run in runs), "p50s": [run["p50"] for run in runs],
                   "p99": statistics.median(run["p99"] for run in runs), "per_move": runs[0]["per_move"]}
            for name, runs in games.items()}
    steps = {server.name: [dict(run, games=1) for run in games[server.name]] for server in relaying}  # the probe alone

    print(f"CPU per 1000 moves, {CPU_GAMES} games, {CPU_RATE} moves a second each, spread over the frame "
          f"and all at once, {args.repetitions} times each, in turn:", flush=True)
    cpu = {(server.name, arrive): [] for server in relaying for arrive in (SPREAD, TOGETHER)}
    for _ in range(args.repetitions):
        for arrive in (SPREAD, TOGETHER):
            for server in relaying:
                step = loaded_run(server, CPU_GAMES, args.seconds, rate=CPU_RATE, arrive=arrive)
                cpu[server.name, arrive].append(step["server_cpu"] / step["moves_per_s"] * 1000)
    for server in relaying:
        rows[server.name]["cpu_per_1000"] = cpu[server.name, SPREAD]
        rows[server.name]["cpu_together"] = cpu[server.name, TOGETHER]
    if args.cpu_only:
        print_table(rows, measured)
        return 0

    print(f"Games held at p50 < {FRAME_MS:g} ms, {args.repetitions} searches each, in turn:", flush=True)
    held = {server.name: [] for server in relaying}
    for repetition in range(args.repetitions):
        searches = [Search(server, max(1, held[server.name][0]), *REPEATED_SEARCH) if repetition else
                    Search(server, *FIRST_SEARCH) for server in relaying]
        while not all(search.done for search in searches):
            for search in searches:
                if not search.done:
                    games = search.games
                    step = loaded_run(search.server, games, args.seconds)
                    steps[search.server.name].append(step)
                    search.told(games, step["holds"])
        for search in searches:
            games, at_limit = search.result()
            held[search.server.name].append(games)
            rows[search.server.name]["at_limit"] = rows[search.server.name].get("at_limit", 0) + at_limit

    for server in relaying:
        rows[server.name]["held"] = held[server.name]
    print_table(rows, measured)
    if not args.against:
        draw_chart(args.chart, {server.name: steps[server.name] for server in relaying})
    total, steal = (after - before for after, before in zip(machine_times(), machine_at_start))
    chart = "no chart (--against)" if args.against else f"chart: {os.path.relpath(args.chart, ROOT)}"
    print(f"\n{chart}. The whole run took "
          f"{(time.monotonic() - began) / 60:.1f} minutes, and the machine lost {steal / max(1, total):.0%} "
          f"of its CPU time to steal (a hypervisor serving others).")
    return 0


def print_table(rows, measured):
    print()
    print(f"| server | msgs/move | bytes/move | CPU s per 1000 moves, spread | the same, all at once "
          f"| games held (p50 < {FRAME_MS:g} ms) | idle CPU | 1 game p50 | 1 game p99 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for server in measured:
        row = rows[server.name]
        name = f"`{server.stage}`, {BASELINE}" if server.name == BASELINE else f"`{server.name}`"
        kind = "relay" if row["per_move"] else "echo"
        if row["per_move"]:
            capacity = spread(row["held"]) if "held" in row else "not measured (--cpu-only)"
            if row.get("at_limit"):  # held at the most it may try: the server might hold more
                limit = "select()'s limit" if server.max_games == SELECT_GAMES else "where the search stops"
                capacity = (f"{capacity[:-1]}; {row['at_limit']} of {len(row['held'])} searches held at "
                            f"{server.max_games}, {limit})")
            moves = (f"{row['per_move'][0]:.2f} | {row['per_move'][1]:.1f} | {spread(row['cpu_per_1000'])} | "
                     f"{spread(row['cpu_together'])} | {capacity}")
        else:
            moves = "- | - | - | - | -"
        p50 = spread(row.get("p50s", [row["p50"]]))
        print(f"| {name} | {moves} | {row['idle']:.1%} | {p50} ms ({kind}) | {row['p99']:.3f} ms |")
    median = statistics.median

    def ratio(a, b, key):
        return median(a[key]) / max(1e-9, median(b[key]))

    print()
    for at in [server.name[len(RELAYING[0]):] for server in measured if server.name.startswith(RELAYING[0])]:
        four, five = (rows[stage + at] for stage in RELAYING)  # this build's, then each --against's
        held = (f", games held x{median(five['held']) / max(1, median(four['held'])):.2f}" if "held" in five else "")
        print(f"stage 5 / stage 4{at}: messages x{five['per_move'][0] / four['per_move'][0]:.2f}, "
              f"bytes x{five['per_move'][1] / four['per_move'][1]:.2f}, "
              f"CPU per move x{ratio(five, four, 'cpu_per_1000'):.2f} spread "
              f"(x{ratio(five, four, 'cpu_together'):.2f} all at once){held} (medians)")
        for name, row in (("stage 4", four), ("stage 5", five)):
            print(f"{name}{at}: CPU per move spread / all at once "
                  f"x{median(row['cpu_per_1000']) / median(row['cpu_together']):.2f} (medians)")
    five, baseline = rows[RELAYING[1]], rows[BASELINE]
    print(f"{BASELINE}: CPU per move spread / all at once "
          f"x{median(baseline['cpu_per_1000']) / median(baseline['cpu_together']):.2f} (medians)")
    held = (f", games held x{median(baseline['held']) / max(1, median(five['held'])):.2f}" if "held" in five else "")
    print(f"{BASELINE} / stage 5: idle CPU {baseline['idle']:.1%} against {five['idle']:.1%}, "
          f"CPU per move x{ratio(baseline, five, 'cpu_per_1000'):.2f} spread{held} (medians"
          + (f"; {baseline['at_limit']} of its searches stopped at select()'s limit)" if baseline.get("at_limit")
             else ")"))


COLOURS = {"stage4_relay": (214, 96, 77), "stage5_optimized": (52, 120, 200), BASELINE: (110, 110, 110)}


def draw_chart(path, steps):
    """Latency against games for each relaying server, on a log scale: every loaded
    run's p50 (a thick line through their medians) and p99 (a thin one), and the
    budget, one frame, dashed. Drawn with pygame, which the kit already has."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import math
    import pygame
    pygame.font.init()
    width, height, left, right, top, bottom = 960, 560, 70, 30, 56, 60
    surface = pygame.Surface((width, height))
    surface.fill((255, 255, 255))
    font, small = pygame.font.Font(None, 26), pygame.font.Font(None, 22)
    ink, grid, alert = (40, 40, 40), (225, 225, 225), (200, 40, 40)
    most_games = max(step["games"] for runs in steps.values() for step in runs)
    x_top = 100 * math.ceil(most_games * 1.05 / 100)
    low, high = 0.1, 1000.0  # ms, on a log scale

    def x(games):
        return left + (width - left - right) * games / x_top

    def y(ms):
        ms = min(max(ms, low), high)
        return top + (height - top - bottom) * (1 - math.log10(ms / low) / math.log10(high / low))

    def write(text, at, colour=ink, face=small, centre=False):
        image = face.render(text, True, colour)
        surface.blit(image, (at[0] - image.get_width() // 2 if centre else at[0], at[1]))
        return image.get_width()

    for ms in (0.1, 1, 10, 100, 1000):
        pygame.draw.line(surface, grid, (left, y(ms)), (width - right, y(ms)))
        label = small.render(f"{ms:g} ms", True, ink)
        surface.blit(label, (left - 8 - label.get_width(), y(ms) - label.get_height() // 2))
    for games in range(0, x_top + 1, 100):
        pygame.draw.line(surface, grid, (x(games), top), (x(games), height - bottom))
        write(str(games), (x(games), height - bottom + 6), centre=True)
    pygame.draw.rect(surface, ink, (left, top, width - left - right, height - top - bottom), 1)
    for dash in range(left, width - right, 12):  # the budget: one frame
        pygame.draw.line(surface, alert, (dash, y(FRAME_MS)), (min(dash + 6, width - right), y(FRAME_MS)), 2)
    write(f"one frame, {FRAME_MS:g} ms", (width - right - 130, y(FRAME_MS) - 18), alert)
    write("How long a move takes to reach the opponent, as games are added", (left, 10), face=font)
    write("each player moves 30 times a second.   thick line: p50, half the moves arrive sooner.   "
          "thin line: p99, all but 1 in 100 do", (left, 34), ink)
    write("games (2 players each), a dot for each run; at 1, the probe's game alone",
          (width // 2, height - 26), centre=True)
    for index, (name, runs) in enumerate(steps.items()):
        colour = COLOURS.get(name, ink)
        for percentile_, thickness in (("p99", 1), ("p50", 3)):
            by_games = {}
            for step in runs:
                by_games.setdefault(step["games"], []).append(step[percentile_])
                pygame.draw.circle(surface, colour, (round(x(step["games"])), round(y(step[percentile_]))),
                                   2 + thickness // 2)
            line = [(x(games), y(statistics.median(values))) for games, values in sorted(by_games.items())]
            if len(line) > 1:
                pygame.draw.lines(surface, colour, False, line, thickness)
        write(name, (left + 12, top + 10 + index * 24), colour, font)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    pygame.image.save(surface, path)


if __name__ == "__main__":
    sys.exit(main())

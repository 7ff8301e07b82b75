"""make bench: what the stage-5 optimisation buys, measured on real traffic over loopback.

    python tests/bench.py [--seconds S] [--max-games N]

For each stage it starts the real server.py and measures, in one run:
  * idle CPU: the server's share of a core with two players connected and still;
  * latency with one game: a probe pair, one player moving 60 times a second,
    timed from the move leaving one client to the opponent having it (stages
    1-3 have no moves, so there it times the echo round trip instead);
  * messages and bytes the server sends per move, counted at the probe's sockets;
  * server CPU per 1000 moves, at a load of 50 games;
  * capacity (stages 4 and 5): the most games, each player moving 30 times a
    second, while the probe's p99 relay latency stays under 16 ms. The load
    comes from worker processes; each reports the move rate it reached and the
    CPU it used, so a load generator that falls behind is seen, not hidden.
Absolute times drift on a shared machine; compare the ratios, from one run.
"""
import argparse
import multiprocessing
import os
import platform
import resource
import selectors
import socket
import sys
import time

from harness import STAGES, ServerProcess, decode, encode, stage_number
FRAME_MS = 16.0  # one frame at 60 FPS: the latency budget
LOAD_RATE = 30   # moves per second per loaded player
WORKERS = 2      # load generator processes


class Client:
    """A bare client speaking PodSixNet's wire format on a plain socket."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer, self.messages, self.bytes = b"", 0, 0
        self.start = None

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

    def wait_for(self, action, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            self.sock.settimeout(max(0.001, deadline - time.monotonic()))
            for message in self.read():
                if message.get("action") == action:
                    self.sock.settimeout(None)
                    return message

    def move(self, dx):
        self.send({"action": "move", "gameID": self.start["gameID"],
                   "player": self.start["player"], "dx": dx, "dy": 0})


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def load_worker(port, games, seconds, ready, go, results):
    """Play `games` games' worth of players, each moving LOAD_RATE times a second."""
    clients = [Client(port) for _ in range(2 * games)]
    for client in clients:
        client.start = client.wait_for("startgame", timeout=60)
    ready.release()
    go.wait()
    selector = selectors.DefaultSelector()
    for client in clients:
        client.sock.setblocking(False)
        selector.register(client.sock, selectors.EVENT_READ, client)
    interval = 1 / LOAD_RATE
    started = time.monotonic()
    due = [started + interval * index / len(clients) for index in range(len(clients))]
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


def loaded_run(stage, games, seconds):
    """One fresh server, the probe pair, then `games` loaded games; what the probe saw."""
    server = ServerProcess(stage, "--max-players", 2 * games + 2)
    try:
        mover, watcher = probe_pair(server.port, stage)  # first, so they pair with each other
        context = multiprocessing.get_context("fork")
        ready, go, results = context.Semaphore(0), context.Event(), context.Queue()
        shares = [games // WORKERS + (1 if i < games % WORKERS else 0) for i in range(WORKERS)]
        workers = [context.Process(target=load_worker, args=(server.port, share, seconds + 1, ready, go, results))
                   for share in shares if share]
        for worker in workers:
            worker.start()
        for _ in workers:
            ready.acquire(timeout=120)
        go.set()
        time.sleep(0.5)  # let the load reach its pace before the probe measures it
        cpu_before = cpu_seconds(server.proc.pid)
        latencies, _ = probe(mover, watcher, stage, seconds)
        server_cpu = cpu_seconds(server.proc.pid) - cpu_before
        loads_ = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join()
        alive = server.proc.poll() is None
    finally:
        server.stop()
    target = 2 * games * LOAD_RATE
    achieved = sum(r["moves"] / r["seconds"] for r in loads_)
    return {"games": games, "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
            "server_cpu": server_cpu / seconds, "load_cpu": sum(r["cpu"] / r["seconds"] for r in loads_),
            "rate": achieved / target, "moves_per_s": achieved, "alive": alive}


def capacity(stage, seconds, max_games):
    """Step the load up by half until the probe's p99 passes one frame, then bisect
    three times between the last load held and the first not held. Returns
    (games held, whether the search hit max_games before failing, every step)."""
    steps = []

    def holds(games):
        step = loaded_run(stage, games, seconds)
        steps.append(step)
        print(f"  {stage}: {games:4d} games  p50 {step['p50']:6.2f} ms  p99 {step['p99']:7.2f} ms  "
              f"server {step['server_cpu']:5.0%}  load generator {step['load_cpu']:5.0%} "
              f"(reached {step['rate']:4.0%} of its rate)  server alive: {step['alive']}", flush=True)
        return step["p99"] < FRAME_MS and step["rate"] >= 0.95

    held, games = 0, 25
    while holds(games):
        held = games
        if games == max_games:
            return held, True, steps
        games = min(max_games, int(games * 1.5))
    failed = games
    for _ in range(3):
        middle = (held + failed) // 2
        if middle in (held, failed):
            break
        if holds(middle):
            held = middle
        else:
            failed = middle
    return held, False, steps


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # room for the load's sockets
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    parser = argparse.ArgumentParser(description="Benchmark every stage's server.")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each measurement")
    parser.add_argument("--max-games", type=int, default=2000, help="where the capacity search stops")
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, Python {platform.python_version()}", flush=True)
    rows = {}
    for stage in STAGES:
        server = ServerProcess(stage)
        try:
            mover, watcher = probe_pair(server.port, stage)
            before, started = cpu_seconds(server.proc.pid), time.monotonic()
            time.sleep(args.seconds)  # the idle window being measured
            idle = (cpu_seconds(server.proc.pid) - before) / (time.monotonic() - started)
            cpu_before = cpu_seconds(server.proc.pid)
            latencies, per_move = probe(mover, watcher, stage, args.seconds)
            probe_cpu = cpu_seconds(server.proc.pid) - cpu_before
        finally:
            server.stop()
        row = rows[stage] = {"idle": idle, "p50": percentile(latencies, 0.5),
                             "p99": percentile(latencies, 0.99), "per_move": per_move}
        print(f"  {stage}: idle {idle:.1%}, one game p50 {row['p50']:.3f} ms, p99 {row['p99']:.3f} ms "
              f"({len(latencies)} samples, server CPU {probe_cpu:.2f} s)", flush=True)
    for stage in STAGES:
        if stage_number(stage) >= 4:
            load = loaded_run(stage, 50, args.seconds)
            rows[stage]["cpu_per_1000"] = load["server_cpu"] / load["moves_per_s"] * 1000
            held, at_limit, _ = capacity(stage, args.seconds, args.max_games)
            rows[stage]["capacity"] = f"{'>= ' if at_limit else ''}{held}"
            rows[stage]["held"] = held
    print_table(rows)
    return 0


def print_table(rows):
    print()
    print("| stage | idle CPU | 1 game p50 | 1 game p99 | msgs/move | bytes/move | CPU s per 1000 moves | games held |")
    print("|---|---|---|---|---|---|---|---|")
    for stage, row in rows.items():
        kind = "relay" if row["per_move"] else "echo"
        moves = (f"{row['per_move'][0]:.2f} | {row['per_move'][1]:.1f} | {row['cpu_per_1000']:.3f} | "
                 f"{row['capacity']}") if row["per_move"] else "- | - | - | -"
        print(f"| `{stage}` | {row['idle']:.1%} | {row['p50']:.3f} ms ({kind}) | {row['p99']:.3f} ms | {moves} |")
    relay = [row for row in rows.values() if row["per_move"]]
    if len(relay) == 2:
        four, five = relay
        print(f"\nstage 5 / stage 4: messages x{five['per_move'][0] / four['per_move'][0]:.2f}, "
              f"bytes x{five['per_move'][1] / four['per_move'][1]:.2f}, "
              f"CPU per move x{five['cpu_per_1000'] / four['cpu_per_1000']:.2f}, "
              f"games held x{five['held'] / max(1, four['held']):.2f}")


if __name__ == "__main__":
    sys.exit(main())

"""What one mischievous laptop does to a server: each attack of docs/engineering.md's "How it holds up", measured.

    python tests/mischief.py [--root DIR]

Runs the servers of the kit at DIR (default: this one; give a clone of an older
commit to measure it the same way) and prints one figure per attack:
  * an honest echo's round trip while 10 connections each send messages whose
    dict keys share one hash, and, to compare, messages of the same size whose
    keys are ordinary text;
  * the seats a newcomer from another address finds after one address opened
    1000 connections that say nothing;
  * under a limit of 256 open files (macOS's default), with 260 connections
    waiting: the server's CPU share and the lines it prints a second;
  * whether a player who reads at 100 kB/s survives its opponent's flood of moves;
  * what a waiting player receives in 5 s while one address connects, sends junk
    and is cut, in a loop;
  * the tracebacks a console that speaks cp1252 shows in 5 s of messages whose
    action is Japanese text, sent by connections in a loop;
  * the frames a second of a game whose server floods it with distinct unknown
    actions (x0, x1, ...), or with valid positions, and the lines it prints.
It runs clients over loopback only, for a few seconds each. The figures are
times and rates from one machine: compare them within one run of one machine.
"""
import argparse
import resource
import socket
import statistics
import threading
import time
from pathlib import Path

from harness import (LOOPBACK, ROOT, TERMINATOR, GameProcess, ServerProcess, WireClient, cpu_seconds, dumps,
                     encode, tcp_connections)
from test_fair_share import ONE_MACHINE, flood_a_slow_reader, flood_message, send_until_closed
from test_rogue_server import START, RogueServer

SECONDS = 5


def quietly(job):
    """Run job() in a thread until stop() is called; each round ends with a check of `running`."""
    running = threading.Event()
    running.set()
    thread = threading.Thread(target=lambda: [job() for _ in iter(running.is_set, False)], daemon=True)
    thread.start()

    def stop():
        running.clear()
        thread.join(30)
    return stop


def echoes_beside(root, message, stage="stage1_echo"):
    """An honest echo's round trips while 10 connections from one address send `message` again and again."""
    server = ServerProcess(f"{root}/{stage}")
    try:
        honest = WireClient(server)
        raw = dumps(message) + TERMINATOR
        colliders = [WireClient(server, host=ONE_MACHINE) for _ in range(10)]
        stops = [quietly(lambda c=c: send_until_closed(c, raw)) for c in colliders]
        trips = []
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            started = time.perf_counter()
            honest.echo()
            trips.append((time.perf_counter() - started) * 1000)
        for collider, stop in zip(colliders, stops):
            collider.close(reset=True)  # a send that waits for the server ends with it
            stop()
        return (f"median {statistics.median(trips):.1f} ms, mean {statistics.mean(trips):.1f} ms, "
                f"{len(trips)} echoes in {SECONDS} s")
    finally:
        server.stop()


def seats_left(root):
    server = ServerProcess(f"{root}/stage2_queue", "--max-players", 1000)
    idle = []
    try:
        for _ in range(1000):
            idle.append(WireClient(server, host=ONE_MACHINE, hello=False))
        newcomer = WireClient(server)  # from another address
        greeted = newcomer.wait(lambda inbox: inbox, "a greeting")
        return (f"{1000 - server.account()['connected'] + (1 if greeted else 0)} seats of 1000 left for newcomers "
                f"from other addresses; the first {'got in' if greeted else 'was refused'}")
    finally:
        for client in idle:
            client.close()
        server.stop()


def at_the_file_limit(root):
    server = ServerProcess(f"{root}/stage1_echo", file_limit=256)
    waiting = []
    try:
        for _ in range(260):
            waiting.append(WireClient(server, hello=False))
        time.sleep(0.5)  # let it reach the limit
        lines, cpu, started = len(server.out.lines), cpu_seconds(server.proc.pid), time.monotonic()
        time.sleep(2)
        seconds = time.monotonic() - started
        share = (cpu_seconds(server.proc.pid) - cpu) / seconds
        return f"CPU {share:.0%}, {(len(server.out.lines) - lines) / seconds:.0f} lines a second"
    finally:
        for client in waiting:
            client.close()
        server.stop()


def victim_of_a_flood(root, stage):
    server = ServerProcess(f"{root}/{stage}")
    try:
        flooder, victim = flood_a_slow_reader(server)
        started = time.monotonic()
        while time.monotonic() - started < 20 and not victim.closed:
            time.sleep(0.1)
        if victim.closed:
            return f"cut after {time.monotonic() - started:.1f} s: {victim.logged('')[-2:]}"
        return f"still playing after 20 s, {len(victim.inbox)} moves heard"
    finally:
        server.stop()


def churn(root):
    server = ServerProcess(f"{root}/stage4_relay")
    try:
        waiting = WireClient(server)
        waiting.wait_for("waiting")

        def one_cycle():
            churner = WireClient(server, host=ONE_MACHINE, hello=False)
            send_until_closed(churner, b"\xff junk" + TERMINATOR)
            churner.wait_closed()
        lines = len(server.out.lines)
        stop = quietly(one_cycle)
        time.sleep(SECONDS)
        stop()
        waiting.echo()
        told = {action: waiting.count(action) for action in ("startgame", "opponentleft", "waiting")}
        return f"{told} to the waiting player; {(len(server.out.lines) - lines) / SECONDS:.0f} lines a second"
    finally:
        server.stop()


def cp1252_console(root):
    server = ServerProcess(f"{root}/stage1_echo", env={"PYTHONIOENCODING": "cp1252"})
    try:
        def one_cycle():
            client = WireClient(server, host=next(LOOPBACK))
            client.send_message({"action": "\u65e5\u672c"})
            try:
                client.echo()
            except AssertionError:
                pass  # the server closed the connection: "a bug in server.py"
            client.close()
        stop = quietly(one_cycle)
        time.sleep(SECONDS)
        stop()
        return f"{server.err.text().count('Traceback')} tracebacks"
    finally:
        server.stop()


def urgent_byte(root):
    """The server's CPU share just after a client sends TCP's urgent byte, and 10 s later."""
    server = ServerProcess(f"{root}/stage1_echo")
    try:
        client = WireClient(server)
        client.echo()
        client.sock.send(b"!", socket.MSG_OOB)
        shares = []
        for wait in (0, 9):
            time.sleep(wait)
            cpu, started = cpu_seconds(server.proc.pid), time.monotonic()
            time.sleep(1)
            shares.append((cpu_seconds(server.proc.pid) - cpu) / (time.monotonic() - started))
        cut = "cut" if client.closed else "not cut"
        return f"CPU {shares[0]:.0%} at once, {shares[1]:.0%} 10 s later; the sender {cut}: {client.logged('')[-1:]}"
    finally:
        server.stop()


def unread_replies(root):
    """500 connections from 50 addresses send 64 KiB echoes and never read a reply: what the server holds."""
    server = ServerProcess(f"{root}/stage1_echo", "--max-players", 600)
    clients = []
    try:
        before = server.memory_kib()
        echo = encode({"action": "echo", "text": "x" * 65000})
        for address in range(50):
            host = f"127.0.3.{address + 1}"
            for _ in range(10):
                client = WireClient(server, host=host, hello=False)
                client.stall()  # reads nothing
                client.sock.settimeout(0.5)
                clients.append(client)
        stop = quietly(lambda: [send_until_closed(client, echo) for client in clients])
        held = rss = 0  # the most, sampled 5 times a second
        for _ in range(SECONDS * 2 * 5):
            ends = [end for end in tcp_connections() if end["local"].endswith(f":{server.port}")]
            held = max(held, sum(end["queued"] + end["unread"] for end in ends) / 2 ** 20)
            rss = max(rss, (server.memory_kib() - before) / 1024)
            time.sleep(0.2)
        stop()
        return (f"at most: server memory +{rss:.0f} MB, its sockets hold {held:.0f} MB "
                f"({held / 50:.1f} MB an address); {len(ends)} connections left after {SECONDS * 2} s")
    finally:
        for client in clients:
            client.close(reset=True)
        server.stop()


FLOODS = {  # what a rogue server sends a game, again and again: a batch of 2000
    "distinct unknown actions": lambda n: {"action": f"x{n}"},
    "valid positions, stage 4": lambda n: {"action": "positions", "positions": [[n % 500, 100], [200, n % 300]]},
    "valid positions, stage 5": lambda n: {"action": "position", "player": 1, "x": n % 500, "y": 100},
}


def game_under_a_flood(root, stage, flood):
    """A stage's game, headless, against a server that floods it: its frames a second, its lines."""
    server = RogueServer()
    game = GameProcess(f"{root}/{stage}", server.port)
    try:
        server.accept()
        started = stage >= "stage3"
        server.send({"action": "connected"}, *[START] * started)
        game.until("state.startswith('in game')" if started else "state == 'connected'")
        server.sock.settimeout(1)
        sent = iter(range(10 ** 9))

        def batch():
            try:
                server.sock.sendall(b"".join(encode(FLOODS[flood](next(sent))) for _ in range(2000)))
            except OSError:
                pass  # the game reads no faster (a timeout), or has gone
        stop = quietly(batch)
        frames, started = 0, time.monotonic()
        while time.monotonic() - started < SECONDS:
            frames += len([game.frames(5)]) * 5
        rate = frames / (time.monotonic() - started)
        stop()
        return f"{rate:.0f} frames a second, {len(game.err.lines)} lines printed"
    finally:
        game.kill()
        server.closed()


def attacks():
    """(name, measure(root)) for each attack, in order."""
    same_size = {"action": "echo", "text": "collide", **{f"k{n}": 1 for n in range(len(dumps(flood_message())) // 7)}}
    bomb = {"action": "echo", "text": "bomb", "pad": [""] * 65000}  # one value a byte
    found = [("keys that share one hash", lambda r: echoes_beside(r, flood_message())),
             ("the same size, keys of text", lambda r: echoes_beside(r, same_size)),
             *[(f"decode bombs, {stage}", lambda r, s=stage: echoes_beside(r, bomb, s))
               for stage in ("stage1_echo", "stage5_optimized")],
             ("keys that share one hash, stage5", lambda r: echoes_beside(r, flood_message(), "stage5_optimized")),
             ("an urgent byte", urgent_byte),
             ("50 addresses that never read", unread_replies),
             ("one address, 1000 silent connections", seats_left),
             ("260 connections, 256 files", at_the_file_limit),
             ("a flood, stage 4's victim at 100 kB/s", lambda r: victim_of_a_flood(r, "stage4_relay")),
             ("a flood, stage 5's victim at 100 kB/s", lambda r: victim_of_a_flood(r, "stage5_optimized")),
             ("churn from one address", churn),
             ("a cp1252 console", cp1252_console)]
    for flood, stages in (("distinct unknown actions", ("stage1_echo", "stage5_optimized")),
                          ("valid positions, stage 4", ("stage4_relay",)),
                          ("valid positions, stage 5", ("stage5_optimized",))):
        found += [(f"a game, {flood}, {stage}", lambda r, s=stage, f=flood: game_under_a_flood(r, s, f))
                  for stage in stages]
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("only", nargs="*", help="only the attacks whose names contain one of these words")
    args = parser.parse_args()
    root = args.root.resolve()
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    print(f"servers from {root}", flush=True)
    for name, measure in attacks():
        if args.only and not any(word in name for word in args.only):
            continue
        try:
            figure = measure(root)
        except Exception as error:  # one attack that fails to measure must not hide the others
            figure = f"not measured: {str(error).splitlines()[0][:200]}"
        print(f"{name:<42} {figure}", flush=True)


if __name__ == "__main__":
    main()

"""Runs one of the kit's real programs, unchanged, with what a test needs around it.

    python tests/run_as.py SCRIPT [--counted] [--as-windows] [--plain-tcp] [--file-limit N]
                           [--podsixnet-loop] [--turns] -- [the script's options]

SCRIPT is a stage's server.py, or tools/lagproxy.py.

  --counted      Wraps PodSixNet's Channel.Send in this process. When the server
                 stops, it prints one last line, "sent: {json}": for each client
                 (by address) the messages and bytes sent to it per action, and
                 each game's positions as the server holds them.
  --as-windows   The parts of Windows a server meets, on this machine:
                   * select has no poll() (nor epoll);
                   * select() takes at most 512 sockets in each list, and raises
                     "ValueError: too many file descriptors in select()" past that;
                   * SO_REUSEADDR lets a second socket bind a port that another
                     already listens on (here by way of Linux's SO_REUSEPORT),
                     and SO_EXCLUSIVEADDRUSE exists to refuse that;
                   * asyncio's loop.add_signal_handler() raises NotImplementedError;
                   * socket has no TCP_USER_TIMEOUT.
  --plain-tcp    TCP's own timers only: the socket options a stage sets to notice
                 a vanished peer (SO_KEEPALIVE, TCP_KEEP*, TCP_USER_TIMEOUT) are
                 ignored, as if the stage had never asked.
  --file-limit N The process may open only N files, like a laptop's default 1024.
  --podsixnet-loop
                 The loop of PodSixNet's own examples, for the benchmark's
                 baseline. Where the armour's Pump() waits for a socket, up
                 to a second (ArmouredServer.wait()), this runs what
                 PodSixNet's Server.Pump() runs instead: every channel's
                 Pump(), then asyncore.poll with a timeout of 0, which asks
                 every socket and returns at once, and then sleep(0.0001), as
                 the examples' `while True: server.Pump(); sleep(0.0001)` does.
                 Everything else in the server is as it is.
  --turns        Counts the turns of the server's loop (its waits,
                 ArmouredServer.wait()), and prints "turns: N", the count so
                 far, each time the process gets SIGUSR1, once the wait it came
                 in ends (a second at most; make profile; not on Windows).
"""
import argparse
import asyncio
import atexit
import json
import os
import runpy
import select
import socket
import sys
import warnings
from collections import Counter, defaultdict

WINDOWS_FD_SETSIZE = 512          # as CPython is built for Windows
SO_EXCLUSIVEADDRUSE = ~socket.SO_REUSEADDR  # Windows' value for it: -5


def count_what_is_sent():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from PodSixNet.Channel import Channel

    messages, sizes = defaultdict(Counter), defaultdict(Counter)
    games = {}  # gameID -> the server's own Game object
    send = Channel.Send

    def counted_send(channel, message):
        size = send(channel, message)  # PodSixNet returns the bytes it queued
        to = "%s:%d" % channel.addr[:2]  # its address, not its name: the name comes with its hello
        messages[to][message.get("action")] += 1
        sizes[to][message.get("action")] += size
        game = getattr(channel, "game", None)
        if hasattr(game, "id"):
            games[game.id] = game
        return size

    def report():
        positions = {game_id: game.positions for game_id, game in games.items()}
        print("sent: " + json.dumps({"messages": messages, "bytes": sizes, "positions": positions}),
              flush=True)

    Channel.Send = counted_send
    atexit.register(report)


def act_as_windows():
    del select.poll, select.epoll
    real_select = select.select

    def windows_select(readable, writable, exceptional, *timeout):
        if max(len(readable), len(writable), len(exceptional)) > WINDOWS_FD_SETSIZE:
            raise ValueError("too many file descriptors in select()")
        return real_select(readable, writable, exceptional, *timeout)

    select.select = windows_select
    real_setsockopt = socket.socket.setsockopt

    def windows_setsockopt(sock, level, option, *value):
        if level == socket.SOL_SOCKET and option == SO_EXCLUSIVEADDRUSE:
            return None  # Linux's own default: nobody else may bind the port
        if level == socket.SOL_SOCKET and option == socket.SO_REUSEADDR:
            option = socket.SO_REUSEPORT  # Windows' meaning of SO_REUSEADDR
        return real_setsockopt(sock, level, option, *value)

    socket.socket.setsockopt = windows_setsockopt
    socket.SO_EXCLUSIVEADDRUSE = SO_EXCLUSIVEADDRUSE

    def no_signal_handlers(loop, signum, callback, *args):
        raise NotImplementedError  # as Windows' asyncio loops do

    asyncio.unix_events._UnixSelectorEventLoop.add_signal_handler = no_signal_handlers
    del socket.TCP_USER_TIMEOUT  # Linux's alone


def plain_tcp():
    real_setsockopt = socket.socket.setsockopt
    vanishing = {(socket.SOL_SOCKET, socket.SO_KEEPALIVE)} | {
        (socket.IPPROTO_TCP, getattr(socket, name)) for name in
        ("TCP_KEEPIDLE", "TCP_KEEPALIVE", "TCP_KEEPINTVL", "TCP_KEEPCNT", "TCP_USER_TIMEOUT")
        if hasattr(socket, name)}

    def without_vanishing(sock, level, option, *value):
        if (level, option) not in vanishing:
            return real_setsockopt(sock, level, option, *value)

    socket.socket.setsockopt = without_vanishing


def podsixnet_loop(server_class):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from PodSixNet.asyncwrapper import poll  # what Server.Pump() calls
    import time

    def pump_and_sleep(server, timeout):
        for channel in list(server.channels):
            channel.Pump()      # PodSixNet's Server.Pump(): every channel, every turn,
        poll(map=server._map)   # then select() on every socket, never waiting, serving what is ready
        time.sleep(0.0001)      # its examples' loop
        return []               # served already: nothing left for the armour's turn

    server_class.wait = pump_and_sleep


def count_turns(server_class):
    # The count is printed when the wait the signal came in ends, never from the
    # signal handler itself: a handler runs between any two steps of the server,
    # even inside a print(), and its line would land in the middle of another.
    import signal
    turns, asked = [0], []
    wait = server_class.wait

    def one_turn(*args, **kwargs):
        ready = wait(*args, **kwargs)
        turns[0] += 1
        if asked:
            asked.clear()
            print(f"turns: {turns[0]}", flush=True)
        return ready

    server_class.wait = one_turn
    signal.signal(signal.SIGUSR1, lambda *_: asked.append(True))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("script")
    parser.add_argument("--counted", action="store_true")
    parser.add_argument("--as-windows", action="store_true")
    parser.add_argument("--plain-tcp", action="store_true")
    parser.add_argument("--file-limit", type=int)
    parser.add_argument("--podsixnet-loop", action="store_true")
    parser.add_argument("--turns", action="store_true")
    args, server_args = parser.parse_known_args()
    if args.file_limit:
        import resource
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.file_limit, args.file_limit))
    if args.plain_tcp:
        plain_tcp()
    if args.as_windows:
        act_as_windows()
    if args.counted:
        count_what_is_sent()
    sys.argv = [args.script, *[arg for arg in server_args if arg != "--"]]
    sys.path[0] = os.path.dirname(os.path.abspath(args.script))  # as `python SCRIPT` has it: its own folder
    if not (args.podsixnet_loop or args.turns):
        return runpy.run_path(args.script, run_name="__main__")
    # The loop's options change the server's one wait, ArmouredServer.wait(): load
    # the script without running it, change that, then run its main().
    server = runpy.run_path(args.script, run_name="server")
    if args.podsixnet_loop:
        podsixnet_loop(server["ArmouredServer"])
    if args.turns:
        count_turns(server["ArmouredServer"])
    sys.exit(server["main"]())


if __name__ == "__main__":
    main()

"""A TCP proxy that delays every byte, so one machine can feel a real network's lag.

    python tools/lagproxy.py --listen 31426 --server 127.0.0.1:31425 --delay 100 [--jitter 20]

Start a stage's server, then this proxy, then point the games at the proxy's
port (game.py --port 31426). Everything a game sends reaches the server
--delay milliseconds late, and everything the server sends reaches the game
--delay milliseconds late: a round trip costs twice the delay, as over a real
network. --jitter varies each delay by up to that many milliseconds either
way. Bytes keep their order, as TCP keeps them: a late chunk holds back the
ones behind it rather than being overtaken.

The proxy holds at most BUFFER_LIMIT bytes in each direction of a connection;
past that it stops reading, and TCP slows the sender down. When either side
closes, the proxy delivers what it still holds, then closes both sides.
Standard library only (asyncio); stop it with Ctrl+C.
"""
import argparse
import asyncio
import errno
import random
import signal
import sys
import time

BUFFER_LIMIT = 1 << 20  # bytes held for one direction of one connection, at most


def log(line, file=sys.stdout):
    print(line, file=file, flush=True)


class DelayedPipe:
    """One direction of one connection: bytes read from `reader` reach `writer` `delay` late."""

    def __init__(self, reader, writer, delay, jitter):
        self.reader, self.writer = reader, writer
        self.delay, self.jitter = delay, jitter
        self.chunks = asyncio.Queue()  # (when it is due, bytes); None when the sender has closed
        self.held = 0                  # bytes read and not yet written
        self.room = asyncio.Event()    # set while held < BUFFER_LIMIT
        self.room.set()
        self.last_due = 0.0

    async def read(self):
        try:
            while data := await self.reader.read(65536):
                due = time.monotonic() + (self.delay + random.uniform(-self.jitter, self.jitter)) / 1000
                self.last_due = max(due, self.last_due)  # never overtake the chunk before
                self.held += len(data)
                await self.chunks.put((self.last_due, data))
                if self.held >= BUFFER_LIMIT:
                    self.room.clear()
                    await self.room.wait()  # read no more: TCP tells the sender to wait
        except OSError:
            pass  # a reset is a close too
        await self.chunks.put(None)

    async def write(self):
        try:
            while (chunk := await self.chunks.get()) is not None:
                due, data = chunk
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                self.writer.write(data)
                await self.writer.drain()
                self.held -= len(data)
                if self.held < BUFFER_LIMIT:
                    self.room.set()
        except OSError:
            pass


async def relay(client_reader, client_writer, server_address, delay, jitter):
    name = "%s:%d" % client_writer.get_extra_info("peername")[:2]
    try:
        server_reader, server_writer = await asyncio.open_connection(*server_address)
    except OSError as error:
        log(f"{name}: no server at {server_address[0]}:{server_address[1]} "
            f"({error.strerror or error}); closing that game's connection")
        client_writer.close()
        return
    log(f"{name} connected through the proxy")
    pipes = [DelayedPipe(client_reader, server_writer, delay, jitter),
             DelayedPipe(server_reader, client_writer, delay, jitter)]
    tasks = [asyncio.ensure_future(job) for pipe in pipes for job in (pipe.read(), pipe.write())]
    try:  # either side closing ends both: wait for the first pipe to deliver all it holds
        await asyncio.wait(tasks[1::2], return_when=asyncio.FIRST_COMPLETED)
        log(f"{name} closed")
    except asyncio.CancelledError:
        pass  # the proxy is stopping
    finally:
        for task in tasks:
            task.cancel()
        for writer in (client_writer, server_writer):
            writer.close()


def address(text):
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


async def serve(args):
    server = await asyncio.start_server(
        lambda reader, writer: relay(reader, writer, args.server, args.delay, args.jitter),
        args.listen[0], args.listen[1])
    host, port = server.sockets[0].getsockname()[:2]
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # `kill` stops it as Ctrl+C does
        try:
            asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
        except NotImplementedError:
            pass  # Windows: Ctrl+C raises KeyboardInterrupt instead, and main() stops there
    log(f"lag proxy on {host}:{port} -> {args.server[0]}:{args.server[1]}, "
        f"{args.delay:g} ms each way (jitter {args.jitter:g} ms) (Ctrl+C stops it)")
    await stopping.wait()
    server.close()
    log("lag proxy stopped")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=address, default=("127.0.0.1", 31426),
                        help="[HOST:]PORT the games connect to (default 127.0.0.1:31426)")
    parser.add_argument("--server", type=address, default=("127.0.0.1", 31425),
                        help="HOST:PORT of the stage's server (default 127.0.0.1:31425)")
    parser.add_argument("--delay", type=float, default=100, help="milliseconds each way (default 100)")
    parser.add_argument("--jitter", type=float, default=0, help="up to this many ms more or less (default 0)")
    args = parser.parse_args()
    if args.jitter > args.delay:
        parser.error("--jitter cannot be more than --delay: a byte cannot arrive before it is sent")
    try:
        asyncio.run(serve(args))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            log(f"Port {args.listen[1]} is already in use: is another proxy still running?", sys.stderr)
        else:
            log(f"Cannot listen on {args.listen[0]}:{args.listen[1]}: {error.strerror or error}.", sys.stderr)
        return 1
    except KeyboardInterrupt:
        log("lag proxy stopped")  # Ctrl+C before it was listening, or on Windows
    return 0


if __name__ == "__main__":
    sys.exit(main())

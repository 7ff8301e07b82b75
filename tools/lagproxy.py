"""A TCP proxy between games and a server: it can delay, jitter and lose, and show the wire.

    python tools/lagproxy.py [--listen 31426] [--server 127.0.0.1:31425] [--delay 100]
                             [--jitter 20] [--loss 2] [--wire]

Start a stage's server, then this proxy, then point the games at the proxy's
port (game.py --port 31426). Everything a game sends reaches the server
--delay milliseconds late, and everything the server sends reaches the game
--delay milliseconds late: a round trip costs twice the delay, as over a real
network. --jitter varies each delay by up to that many milliseconds either
way. Bytes keep their order, as TCP keeps them: a late chunk holds back the
ones behind it rather than being overtaken.

--loss PCT loses that percentage of the chunks (what one read got: for a
game's small messages, about what one TCP packet carries). TCP never lets a
loss through: the sender waits for its retransmission timeout, sends the
chunk again, and the receiver's TCP holds back every byte behind the hole
until it is filled. So a lost chunk arrives RTO later, and every chunk behind
it waits for it, then all arrive at once: head-of-line blocking. Nothing is
dropped, and the order is kept. The RTO is the round trip plus 200 ms, as
Linux computes it for a steady connection (its floor, TCP_RTO_MIN, is 200 ms;
Windows' is 300 ms, and RFC 6298 asks for 1 s). A resent chunk can be lost
again; then, as TCP does, the proxy waits twice as long for the next try.

--wire prints every message as it is delivered, decoded: the time since the
proxy started, the connection (#1 is the first game to connect), the
direction, the action and its fields, shortened, and its size on the wire
(with PodSixNet's 5-byte end marker). A chunk that was lost, or that waited
behind another, says how long it was held. Bytes that do not decode are shown
as such; the view only watches, and never changes or breaks a connection.

The proxy holds at most BUFFER_LIMIT bytes in each direction of a connection;
past that it stops reading, and TCP slows the sender down. When either side
closes, the proxy delivers what it still holds, then closes both sides.
Standard library only (asyncio), and PodSixNet's rencode for --wire; stop it
with Ctrl+C.
"""
import argparse
import asyncio
import errno
import itertools
import random
import signal
import sys
import time

from PodSixNet.rencode import loads  # to decode what --wire shows

BUFFER_LIMIT = 1 << 20  # bytes held for one direction of one connection, at most
RTO_FLOOR = 200         # ms: a lost chunk is resent after the round trip plus this
END_MARKER = b"\0---\0"  # PodSixNet's: ends every message on the wire
SHOWN_CHARACTERS = 80    # of a message's fields, at most, in the wire view (as the servers' log)
STARTED = time.monotonic()
CONNECTION_NUMBERS = itertools.count(1)  # #1 is the first game to connect


def log(line, file=sys.stdout):
    print(line, file=file, flush=True)


def wire_line(who, arrow, what, size, note=""):
    seconds = time.monotonic() - STARTED
    return f"{seconds:8.3f}  {who:>3} {arrow} server  {what}  {size} B{note}"


class WireView:
    """Decodes the messages in one direction of one connection, for --wire. Only watches."""

    def __init__(self, who, arrow):
        self.who, self.arrow, self.buffer = who, arrow, b""

    def lines(self, data, note):
        self.buffer += data
        *messages, self.buffer = self.buffer.split(END_MARKER)
        for raw in messages:
            try:
                message = loads(raw)
                what = describe(message)
            except Exception:  # anything at all: the bytes are not rencode
                what = f"does not decode: {shorten(repr(raw))}"
            yield wire_line(self.who, self.arrow, what, len(raw) + len(END_MARKER), note)
            note = ""  # said once, on the chunk's first message
        if len(self.buffer) > BUFFER_LIMIT:
            yield wire_line(self.who, self.arrow, "no end marker in all these bytes; not shown",
                            len(self.buffer))
            self.buffer = b""


def describe(message):
    """A message as one short line: its action, then its other fields."""
    if not isinstance(message, dict) or "action" not in message:
        return f"not a message (no action): {shorten(repr(message))}"
    fields = " ".join(f"{key}={value!r}" for key, value in message.items() if key != "action")
    return f"{message['action']} {shorten(fields)}".rstrip()


def shorten(text):
    return text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS - 3] + "..."


class DelayedPipe:
    """One direction of one connection: bytes read from `reader` reach `writer` `delay` late."""

    def __init__(self, reader, writer, options, view=None):
        self.reader, self.writer = reader, writer
        self.delay, self.jitter, self.loss = options.delay, options.jitter, options.loss
        self.view = view                # a WireView, or None
        self.chunks = asyncio.Queue()   # (when it is due, bytes, note); None when the sender has closed
        self.held = 0                   # bytes read and not yet written
        self.room = asyncio.Event()     # set while held < BUFFER_LIMIT
        self.room.set()
        self.last_due = 0.0
        self.lost = 0                   # chunks lost, and delivered late

    def resend_wait(self):
        """How long TCP takes to repair a lost chunk: one RTO, doubled each time the resend is lost."""
        rto, waited = (2 * self.delay + RTO_FLOOR) / 1000, 0.0
        while True:
            waited += rto
            if random.uniform(0, 100) >= self.loss:
                return waited
            rto *= 2

    async def read(self):
        try:
            while data := await self.reader.read(65536):
                due = time.monotonic() + (self.delay + random.uniform(-self.jitter, self.jitter)) / 1000
                notes = []
                if self.loss and random.uniform(0, 100) < self.loss:
                    wait = self.resend_wait()
                    due += wait
                    self.lost += 1
                    notes.append(f"lost, resent {wait * 1000:.0f} ms late")
                if self.last_due - due > 0.001:  # delivered with the chunk before, not before it
                    notes.append(f"waited {(self.last_due - due) * 1000:.0f} ms behind a late one")
                note = f"  ({'; then '.join(notes)})" if notes else ""
                self.last_due = max(due, self.last_due)  # never overtake the chunk before
                self.held += len(data)
                await self.chunks.put((self.last_due, data, note))
                if self.held >= BUFFER_LIMIT:
                    self.room.clear()
                    await self.room.wait()  # read no more: TCP tells the sender to wait
        except OSError:
            pass  # a reset is a close too
        await self.chunks.put(None)

    async def write(self):
        try:
            while (chunk := await self.chunks.get()) is not None:
                due, data, note = chunk
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if self.view:
                    for line in self.view.lines(data, note):
                        log(line)
                self.writer.write(data)
                await self.writer.drain()
                self.held -= len(data)
                if self.held < BUFFER_LIMIT:
                    self.room.set()
        except OSError:
            pass


async def relay(client_reader, client_writer, options):
    name = "%s:%d" % client_writer.get_extra_info("peername")[:2]
    # On loopback, connect from the game's own address, so that the server tells the
    # games apart as it would without the proxy, and each keeps its fair share there.
    own = (name.rsplit(":", 1)[0], 0) if name.startswith("127.") and options.server[0].startswith("127.") else None
    try:
        server_reader, server_writer = await asyncio.open_connection(*options.server, local_addr=own)
    except OSError as error:
        log(f"{name}: no server at {options.server[0]}:{options.server[1]} "
            f"({error.strerror or error}); closing that game's connection")
        client_writer.close()
        return
    who = f"#{next(CONNECTION_NUMBERS)}"
    log(f"{name} connected through the proxy" + f" ({who})" * options.wire)
    views = (WireView(who, "->"), WireView(who, "<-")) if options.wire else (None, None)
    pipes = [DelayedPipe(client_reader, server_writer, options, views[0]),
             DelayedPipe(server_reader, client_writer, options, views[1])]
    tasks = [asyncio.ensure_future(job) for pipe in pipes for job in (pipe.read(), pipe.write())]
    try:  # either side closing ends both: wait for the first pipe to deliver all it holds
        await asyncio.wait(tasks[1::2], return_when=asyncio.FIRST_COMPLETED)
        lost = sum(pipe.lost for pipe in pipes)
        log(f"{name} closed" + f" ({who})" * options.wire +
            f" ({lost} chunks lost and resent)" * bool(options.loss))
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


def percentage(text):
    value = float(text)
    if not 0 <= value < 100:
        raise argparse.ArgumentTypeError(f"{text} is not a percentage from 0 up to (not including) 100: "
                                         "at 100, nothing would ever arrive")
    return value


async def serve(options):
    server = await asyncio.start_server(lambda reader, writer: relay(reader, writer, options),
                                        options.listen[0], options.listen[1])
    host, port = server.sockets[0].getsockname()[:2]
    stopping, loop = asyncio.Event(), asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):  # `kill` stops it as Ctrl+C does
        try:
            loop.add_signal_handler(signum, stopping.set)
        except NotImplementedError:
            # Windows. Python's own Ctrl+C would raise KeyboardInterrupt in whichever
            # connection's task is running, and asyncio would print that task's
            # traceback as the proxy stops. This handler only asks the loop to stop.
            signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stopping.set))
    losing = f", {options.loss:g}% of chunks lost and resent" if options.loss else ""
    log(f"lag proxy on {host}:{port} -> {options.server[0]}:{options.server[1]}, "
        f"{options.delay:g} ms each way (jitter {options.jitter:g} ms){losing} (Ctrl+C stops it)")
    if options.wire:
        log("wire view: seconds since the proxy started, connection, direction, message, bytes on the wire")
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
    parser.add_argument("--loss", type=percentage, default=0,
                        help="percent of chunks lost, each delivered a retransmission timeout late (default 0)")
    parser.add_argument("--wire", action="store_true", help="print every message as it is delivered")
    options = parser.parse_args()
    if options.jitter > options.delay:
        parser.error("--jitter cannot be more than --delay: a byte cannot arrive before it is sent")
    try:
        asyncio.run(serve(options))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            log(f"Port {options.listen[1]} is already in use: is another proxy still running?", sys.stderr)
        else:
            log(f"Cannot listen on {options.listen[0]}:{options.listen[1]}: {error.strerror or error}.",
                sys.stderr)
        return 1
    except KeyboardInterrupt:
        log("lag proxy stopped")  # Ctrl+C before it was listening
    return 0


if __name__ == "__main__":
    sys.exit(main())

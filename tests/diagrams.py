"""Each stage's sequence diagram on the pages, captured on the wire from a real run.

    python tests/diagrams.py        (make screenshots runs it too)

For each stage it starts the real server.py and tools/lagproxy.py --wire in
front of it, then two real games (game.py's classes, headless) through the
proxy, and plays a short session, one step at a time: the first game opens,
the second opens, each moves one step (from stage 4, where moves exist), and
the second closes its window. The proxy prints every message it delivers; this
turns those lines into a Mermaid sequenceDiagram and writes it under the stage's
marker line, `<!-- wire diagram STAGE ... -->`, on every page that has one
(README.md, docs/**/*.md). GitHub draws it.

A step ends when the proxy has shown every message the games say they sent and
received (each game counts them at PodSixNet's layer), and a few more frames
bring nothing new. Messages keep their order on each connection. Where two
connections carry messages at the same moment (the server answering both
games), a game's own message comes first, as it caused the rest, and then the
first game's before the second's, as the server writes them: it pumps its
channels in the order the players joined. So a diagram is the same on every
run, and tests/test_diagrams.py checks that the pages' are what a run makes now.
"""
import re
import sys
from contextlib import ExitStack

from harness import STAGES, GameProcess, ProxyProcess, ServerProcess, stage_number, wait_until
from pages import markdown_pages, name, read

DELAY = 30  # ms each way: a reply then never overtakes what the server sent just before it
MARKER = re.compile(r"<!-- wire diagram (?P<stage>stage\d+_[a-z]+)\b.*-->")
WIRE_LINE = re.compile(r"^\s*[\d.]+\s+#(?P<connection>\d+) (?P<arrow>->|<-) server  (?P<what>.*)  (?P<size>\d+) B")
CLOSED_LINE = re.compile(r" closed \(#(?P<connection>\d+)\)")
GAMES = "AB"  # the first game to connect is A: connection #1


class Session:
    """Two games through a --wire proxy, and the proxy's lines, step by step."""

    def __init__(self, stage, stack):
        self.stage, self.stack, self.games, self.steps = stage, stack, {}, []
        server = ServerProcess(stage)
        stack.callback(server.stop)
        self.proxy = ProxyProcess(server, DELAY, wire=True)
        stack.callback(self.proxy.stop)
        self.seen = 0      # proxy lines already given to a step
        self.last = {}     # each game's last snapshot

    def events(self):
        """The proxy's wire and close lines so far, as (connection, arrow, text)."""
        found = []
        for line in self.proxy.out.lines[:]:
            if wire := WIRE_LINE.match(line):
                found.append((int(wire["connection"]), wire["arrow"], f"{wire['what']} ({wire['size']} B)"))
            elif closed := CLOSED_LINE.search(line):
                found.append((int(closed["connection"]), "x", "closes the connection"))
        return found

    def crossed(self):
        """How many messages the games say crossed, both ways, and the games that closed."""
        return sum(s["wire"]["sent"] + s["wire"]["received"] for s in self.last.values()) + \
            sum(not s["running"] for s in self.last.values())

    def settle(self):
        """Run frames until the proxy has shown all the games counted, twice with nothing new."""
        quiet, before = 0, -1
        while quiet < 2:
            live = [game for name, game in self.games.items() if self.last[name]["running"]]
            for game in live:
                game.ask(cmd="frames", count=10, keydown=[], keyup=[])
            for name, game in self.games.items():
                if game in live:
                    self.last[name] = game.answer()
            total = self.crossed()
            wait_until(lambda: len(self.events()) >= total,
                       lambda: f"the proxy to show {total} messages and closes: {self.proxy.out.text()}")
            quiet, before = (quiet + 1 if total == before else 0), total

    def step(self, note, act):
        act()
        self.settle()
        events = self.events()
        self.steps.append((note, events[self.seen:]))
        self.seen = len(events)

    def open(self, name):
        def act():
            self.games[name] = game = GameProcess(self.stage, self.proxy.port, name=name)
            self.stack.callback(game.kill)
            self.last[name] = game.until("round_trip_ms is not None")  # connected, and echoed
        self.step(f"{name} opens its window", act)

    def move(self, name, key):
        def act():
            self.games[name].frames(1, keydown=[key])
            self.last[name] = self.games[name].frames(1, keyup=[key])
        self.step(f"{name} holds the {key} arrow for one frame", act)

    def close(self, name):
        def act():
            self.last[name] = self.games[name].close_window()
        self.step(f"{name} closes its window", act)


def in_causal_order(events):
    """One step's events: each connection's in its own order; at each point, a game's
    message (or close) first, then the lowest connection's."""
    queues = {}
    for event in events:
        queues.setdefault(event[0], []).append(event)
    ordered = []
    while any(queues.values()):
        heads = [q for _, q in sorted(queues.items()) if q]
        chosen = next((q for q in heads if q[0][1] != "<-"), heads[0])
        ordered.append(chosen.pop(0))
    return ordered


def capture(stage):
    """The stage's session as Mermaid lines."""
    with ExitStack() as stack:
        session = Session(stage, stack)
        session.open("A")
        session.open("B")
        if stage_number(stage) >= 4:  # moves cross from stage 4 on
            session.move("A", "right")
            session.move("B", "down")
        session.close("B")
        steps = session.steps
    lines = ["sequenceDiagram", "    participant A as game.py A", "    participant S as server.py",
             "    participant B as game.py B"]
    for note, events in steps:
        lines.append(f"    Note over A,B: {note}")
        for connection, arrow, text in in_causal_order(events):
            game = GAMES[connection - 1]
            lines.append(f"    {game}->>S: {text}" if arrow == "->" else
                         f"    S->>{game}: {text}" if arrow == "<-" else f"    {game}-xS: {text}")
    return lines


def diagram_block(lines):
    return ["```mermaid", *lines, "```"]


def page_diagrams(text):
    """{stage: the lines of its diagram block} for each marker on a page."""
    lines, found = text.split("\n"), {}
    for number, line in enumerate(lines):
        if (marker := MARKER.fullmatch(line)) and lines[number + 1:number + 2] == ["```mermaid"]:
            end = lines.index("```", number + 2)
            found[marker["stage"]] = lines[number + 1:end + 1]
    return found


def markers(text):
    """The stages whose marker a page has."""
    return {marker["stage"] for line in text.split("\n") if (marker := MARKER.fullmatch(line))}


def rewrite(text, diagrams):
    """A page with each stage's block under its marker replaced (or added)."""
    lines, out = text.split("\n"), []
    while lines:
        line = lines.pop(0)
        out.append(line)
        marker = MARKER.fullmatch(line)
        if marker and marker["stage"] in diagrams:
            if lines[:1] == ["```mermaid"]:
                del lines[:lines.index("```", 1) + 1]
            out += diagram_block(diagrams[marker["stage"]])
    return "\n".join(out)


def main():
    diagrams = {}
    for stage in STAGES:
        diagrams[stage] = capture(stage)
        print(f"{stage}: {len(diagrams[stage]) - 4} lines of diagram")
    shown = set()
    for page in markdown_pages():
        text = read(page)
        if markers(text):
            page.write_text(rewrite(text, diagrams), encoding="utf-8")
            print(f"{name(page)}: diagrams of {', '.join(sorted(markers(text)))}")
            shown |= markers(text)
    missing = [stage for stage in STAGES if stage not in shown]
    for stage in missing:
        print(f"No page has a '<!-- wire diagram {stage} -->' line: its diagram is not shown", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

"""A game survives its server's mistakes. In class the server is often a student's
edited server.py, so every stage's real game.py meets a rogue server: a plain socket
that speaks PodSixNet's wire format, greets the game, plays the stage's opening, and
sends one message the game cannot use, twice. The game must go on as it was, with no
traceback and the one line of the table below, printed once; when the server then
closes, the game must say that, as it does for any server.

The cases: each runs side by side in every stage where it applies. Last, the
guard's last resort: a student's own mistake in draw() or update() is one line too.
"""
import re
import socket

import pytest

from answers import changed_copy
from harness import STAGES, TERMINATOR, TIMEOUT, encode, stage_number

START = {"action": "startgame", "gameID": 0, "player": 0, "positions": [[100, 200], [400, 200]],
         "arena": [560, 360], "speed": 4}  # a good startgame for every stage (stage 3 ignores the speed)
HUGE = 10 ** 30  # rencode carries an int of any size; pygame cannot draw one past 2**63
IGNORED = "so game.py ignored it: "


def raised(before, error, after):
    """A line that quotes an exception, in words each Python may choose differently."""
    return re.compile(re.escape(f"{before} ({error}: ") + ".+" + re.escape(f"), {after}"))


def same(expected, line):
    return bool(expected.fullmatch(line)) if isinstance(expected, re.Pattern) else expected == line

# name: (first stage, last stage, whether a startgame comes first, what the server sends,
#        the one line the game prints, or None when the message does no harm)
CASES = {
    # Not a dict, an action that is no string, a long echo (every stage) ...
    "a list": (1, 5, False, [1, 2, 3],
               f"The server sent a message that is not a dict, {IGNORED}[1, 2, 3]"),
    "a string": (1, 5, False, "hello",
                 f"The server sent a message that is not a dict, {IGNORED}'hello'"),
    "a number": (1, 5, False, 42,
                 f"The server sent a message that is not a dict, {IGNORED}42"),
    "an int action": (1, 5, False, {"action": 5},
                      f"The server sent a message whose action is not a string, {IGNORED}{{'action': 5}}"),
    "an echo of 60000 characters": (1, 5, False, {"action": "echo", "text": "x" * 60000}, None),
    # ... startgame without its fields, for a player that does not exist, positions as text (3-5) ...
    "startgame without its fields": (3, 5, False, {"action": "startgame"},
                                     f"The server sent startgame without gameID, {IGNORED}{{'action': 'startgame'}}"),
    "startgame for player 5": (
        3, 5, False, {**START, "player": 5},
        "The server sent startgame with player 5, which is not a player here (0 to 1), "
        f"{IGNORED}{{'action': 'startgame', 'gameID': 0, 'player': 5, 'positions': [[100, 200], [..."),
    "startgame for player -1": (
        3, 5, False, {**START, "player": -1},
        "The server sent startgame with player -1, which is not a player here (0 to 1), "
        f"{IGNORED}{{'action': 'startgame', 'gameID': 0, 'player': -1, 'positions': [[100, 200], ..."),
    "startgame with positions as text": (
        3, 5, False, {**START, "positions": "100,200 400,200"},
        "The server sent startgame with positions '100,200 400,200', which are not 2 pairs of numbers, "
        f"{IGNORED}{{'action': 'startgame', 'gameID': 0, 'player': 0, 'positions': '100,200 400,2..."),
    # ... positions before startgame, and of the wrong shape (4) ...
    "positions before startgame": (4, 4, False, {"action": "positions", "positions": [[1, 2], [3, 4]]},
                                   f"The server sent positions before startgame, "
                                   f"{IGNORED}{{'action': 'positions', 'positions': [[1, 2], [3, 4]]}}"),
    "positions of the wrong shape": (4, 4, True, {"action": "positions", "positions": [[1, 2, 3], [4, 5, 6]]},
                                     "The server sent positions with position [1, 2, 3], which the window "
                                     f"cannot draw, {IGNORED}{{'action': 'positions', 'positions': "
                                     "[[1, 2, 3], [4, 5, 6]]}"),
    # ... and position before startgame, for player 7, without x (5).
    "position before startgame": (5, 5, False, {"action": "position", "player": 1, "x": 5, "y": 6},
                                  raised("The server sent position that Network_position could not use",
                                         "TypeError",  # 'NoneType' object does not support item assignment
                                         f"{IGNORED}{{'action': 'position', 'player': 1, 'x': 5, 'y': 6}}")),
    "position for player 7": (5, 5, True, {"action": "position", "player": 7, "x": 5, "y": 6},
                              raised("The server sent position that Network_position could not use",
                                     "IndexError",  # list assignment index out of range
                                     f"{IGNORED}{{'action': 'position', 'player': 7, 'x': 5, 'y': 6}}")),
    "position without x": (5, 5, True, {"action": "position", "player": 1, "y": 6},
                           f"The server sent position without x, {IGNORED}{{'action': 'position', 'player': 1, 'y': 6}}"),
    # A position that is a pair of huge ints, wherever a position arrives (3-5).
    "startgame with a huge position": (
        3, 5, False, {**START, "positions": [[HUGE, 5], [400, 200]]},
        f"The server sent startgame with position [{HUGE}, 5], which the window cannot draw, "
        f"{IGNORED}{{'action': 'startgame', 'gameID': 0, 'player': 0, 'positions': [[100000000000..."),
    "positions with a huge position": (
        4, 4, True, {"action": "positions", "positions": [[100, 200], [HUGE, HUGE]]},
        f"The server sent positions with position [{HUGE}, {HUGE}], which the window cannot draw, "
        f"{IGNORED}{{'action': 'positions', 'positions': [[100, 200], [10000000000000000000000000..."),
    "position that is huge": (
        5, 5, True, {"action": "position", "player": 1, "x": HUGE, "y": HUGE},
        f"The server sent position with position [{HUGE}, {HUGE}], which the window cannot draw, "
        f"{IGNORED}{{'action': 'position', 'player': 1, 'x': 1000000000000000000000000000000, 'y'..."),
    # More of the same kind, found while building the guard.
    "bytes that do not decode": (1, 5, False, b"\xff\xfe",
                                 "The server sent 2 bytes that are not a message (ValueError), "
                                 "so game.py ignored them: b'\\xff\\xfe'"),
    "a dict with no action": (1, 5, False, {"text": "hi"},
                              f"The server sent a message with no action, {IGNORED}{{'text': 'hi'}}"),
    "error, from the server": (1, 5, False, {"action": "error"},
                               "The server sent error, which only game.py's own connection may report, "
                               f"{IGNORED}{{'action': 'error'}}"),
    "an echo of a list": (1, 5, False, {"action": "echo", "text": [1]},
                          raised("The server sent echo that Network_echo could not use", "TypeError",
                                 f"{IGNORED}{{'action': 'echo', 'text': [1]}}")),  # unhashable type: 'list'
    "startgame without positions, halfway": (  # Network_startgame sets gameID first: taken back
        3, 5, False, {"action": "startgame", "gameID": 7, "player": 1},
        f"The server sent startgame without positions, {IGNORED}{{'action': 'startgame', 'gameID': 7, 'player': 1}}"),
    "startgame with the arena as text": (
        3, 5, False, {**START, "arena": "big"},
        "The server sent startgame with arena 'big', which is not a width and a height, "
        f"{IGNORED}{{'action': 'startgame', 'gameID': 0, 'player': 0, 'positions': [[100, 200], [..."),
    "startgame with the speed as text": (
        4, 5, False, {**START, "speed": "fast"},
        "The server sent startgame with speed 'fast', which is not a number, "
        f"{IGNORED}{{'action': 'startgame', 'gameID': 0, 'player': 0, 'positions': [[100, 200], [..."),
}
SHOWN = ("state", "notice", "error", "game_id", "number", "positions", "arena")  # what the game goes on with


class RogueServer:
    """A server for one connection, on a plain socket: it sends whatever a test gives
    it, in PodSixNet's wire format (bytes as they are, with the end marker), and
    reads what it is sent only to hang up cleanly."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sock, self.echoes = None, 0  # the echoes sent so far

    def accept(self):
        self.listener.settimeout(TIMEOUT)
        self.sock = self.listener.accept()[0]
        self.listener.close()

    def send(self, *messages):
        for message in messages:
            self.echoes += isinstance(message, dict) and message.get("action") == "echo"
            self.sock.sendall(message + TERMINATOR if isinstance(message, bytes) else encode(message))

    def close(self):
        """Hang up as a server does: a FIN, after reading what the game sent (a socket
        closed with unread bytes would send a reset instead)."""
        self.sock.setblocking(False)
        try:
            while self.sock.recv(1 << 16):
                pass
        except BlockingIOError:
            pass
        self.sock.shutdown(socket.SHUT_WR)

    def closed(self):
        if self.sock:
            self.sock.close()
        self.listener.close()


@pytest.fixture
def rogue_servers():
    """rogue_servers(count) -> that many RogueServers, all closed afterwards."""
    made = []

    def make(count):
        made.extend(RogueServer() for _ in range(count))
        return made[-count:]

    yield make
    for server in made:
        server.closed()


def side_by_side(games, condition):
    """Run every game's frames until `condition` holds for it, all at once; their snapshots."""
    for game in games:
        game.ask(cmd="until", condition=condition, timeout=TIMEOUT)
    return [game.answer(2 * TIMEOUT) for game in games]


@pytest.mark.parametrize("case", CASES)
def test_a_game_survives_its_servers_mistake(case, rogue_servers, start_game):
    first, last, opening, message, line = CASES[case]
    stages = [stage for stage in STAGES if first <= stage_number(stage) <= last]
    servers = rogue_servers(len(stages))
    games = [start_game(stage, server.port) for stage, server in zip(stages, servers)]
    for server in servers:
        server.accept()
        server.send({"action": "connected"}, *[START] * opening)
    before = side_by_side(games, "state.startswith('in game')" if opening else "state == 'connected'")
    for server in servers:  # twice, for the line is printed once; once this echo is in, so are they
        server.send(message, message, {"action": "echo", "text": "and then this"})
    after = side_by_side(games, f"wire['actions'].count('echo') >= {servers[0].echoes}")
    for stage, was, now in zip(stages, before, after):
        assert now["running"], (stage, now)
        assert {name: now[name] for name in SHOWN} == {name: was[name] for name in SHOWN}, stage
    for server in servers:
        server.close()
    for stage, server, game, shown in zip(stages, servers, games, side_by_side(games, "error is not None")):
        closed = f"The server at 127.0.0.1:{server.port} closed the connection."
        assert shown["error"] == closed, stage
        game.err.wait_for(re.escape(closed))
        expected = [line] * (line is not None) + [closed]
        assert len(game.err.lines) == len(expected) and all(map(same, expected, game.err.lines)), \
            (stage, game.err.lines)


def test_two_different_mistakes_are_two_lines_though_they_fail_alike(rogue_servers, start_game):
    # Each raises a TypeError, in a different Network_<action>: each is a mistake of its own.
    cases = [CASES[name] for name in ("an echo of a list", "position before startgame")]
    server, = rogue_servers(1)
    game = start_game(STAGES[-1], server.port)
    server.accept()
    server.send({"action": "connected"})
    side_by_side([game], "state == 'connected'")
    for *_, message, line in cases:
        server.send(message, message)
    server.send({"action": "echo", "text": "and then this"})
    side_by_side([game], f"wire['actions'].count('echo') >= {server.echoes}")
    server.close()
    side_by_side([game], "error is not None")
    closed = f"The server at 127.0.0.1:{server.port} closed the connection."
    game.err.wait_for(re.escape(closed))
    expected = [line for *_, line in cases] + [closed]
    assert len(game.err.lines) == len(expected) and all(map(same, expected, game.err.lines)), game.err.lines


# What a student may get wrong in the lesson's own frame, in every stage: the line
# as it is, as the student writes it, and what the game says then (once, however
# many frames it fails in). The exceptions' own words are Python's, here "unsupported
# format string passed to NoneType.__format__" and "'ArmouredGame' object has no
# attribute 'frames'".
OWN_MISTAKES = {
    "draw": ('        rtt = "-" if self.round_trip_ms is None else f"{self.round_trip_ms:.1f} ms"\n',
             '        rtt = f"{self.round_trip_ms:.1f} ms"  # but there is none before the first echo\n',
             r"game.py's draw\(\) failed on line \d+ \(TypeError: .+\), so the window shows what it could draw"),
    "update": ("        self.Pump()        # run our Network_<action> methods on what arrived\n",
               "        self.Pump()\n        self.frames += 1  # a count that was never started\n",
               r"game.py's update\(\) failed on line \d+ \(AttributeError: .+\), so it goes on with the next frame"),
}


@pytest.mark.parametrize("part", OWN_MISTAKES)
def test_a_mistake_in_the_games_own_frame_is_one_line(part, tmp_path, start_server, start_game):
    old, new, line = OWN_MISTAKES[part]
    servers = [start_server(stage) for stage in STAGES]
    games = [start_game(str(changed_copy(stage, tmp_path, old, new)), server.port)
             for stage, server in zip(STAGES, servers)]
    for shown in side_by_side(games, "round_trip_ms is not None"):  # the echo came back: it goes on
        assert shown["running"] and shown["error"] is None, shown
    for stage, game in zip(STAGES, games):
        game.err.wait_for(line)
        assert len(game.err.lines) == 1, (stage, game.err.lines)


def test_a_game_that_keeps_what_cannot_be_copied_still_takes_its_messages(tmp_path, start_server, start_game):
    stage = STAGES[-1]  # the guard copies the game's lists and dicts, to take back a bad message
    font = "        self.big_font = pygame.font.Font(None, 44)\n"
    fonts = changed_copy(stage, tmp_path, font, font + "        self.fonts = {'big': self.big_font}\n")
    game = start_game(str(fonts), start_server(stage).port)
    assert game.until("round_trip_ms is not None")["error"] is None
    assert game.err.lines == []


READ_BYTES, MOST_LINES, ECHOES_KEPT = 4096, 20, 10  # in every game.py


@pytest.mark.parametrize("stage", [STAGES[0], STAGES[-1]])
def test_a_flood_of_unknown_actions_is_read_a_frame_at_a_time_and_told_in_a_few_lines(stage, rogue_servers,
                                                                                       start_game):
    server, = rogue_servers(1)
    game = start_game(stage, server.port)
    server.accept()
    server.send({"action": "connected"})
    game.until("state == 'connected'")
    kinds = 3000  # x0, x1, ...: each a kind of its own, as a broken server could send
    server.sock.sendall(b"".join(encode({"action": f"x{n}"}) for n in range(kinds)))
    most = READ_BYTES // len(encode({"action": "x0"})) + 1  # what one frame's read can hold
    received = game.snapshot()["wire"]["received"]
    for _ in range(10):
        now = game.frames(1)["wire"]["received"]
        assert now - received <= most, f"one frame took {now - received} messages: more than one read holds"
        received = now
    game.until(f"wire['received'] >= {kinds + 1}")  # the rest, a frame at a time (and the greeting)
    assert len(game.err.lines) == MOST_LINES + 1, game.err.lines[-3:]  # a line each, then one to say so
    assert "it counts the rest, and says how many when it closes" in game.err.lines[-1]
    game.close_window()
    game.err.wait_for(rf"^\.\.\. and {kinds - MOST_LINES} more messages of the server's that game.py could "
                      r"not use, not shown\.$")


def test_a_server_that_never_answers_echoes_costs_the_game_no_more_with_time(rogue_servers, start_game):
    server, = rogue_servers(1)
    game = start_game(STAGES[-1], server.port)
    server.accept()
    server.send({"action": "connected"})
    game.until("state == 'connected'")
    for _ in range(3 * ECHOES_KEPT):  # space, again and again: echoes that never come back
        game.frames(1, keydown=["space"], keyup=["space"])
    shown = game.snapshot()
    assert shown["wire"]["sent_actions"].count("echo") == 3 * ECHOES_KEPT + 1  # and the hello
    assert len(shown["echo_sent_at"]) == ECHOES_KEPT  # only the newest wait for their reply

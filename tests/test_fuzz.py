"""Fuzz, every stage: one client sends random input while another game plays.

Three kinds of input, drawn by hypothesis:
  * random bytes between end markers;
  * random rencoded values: dicts with and without "action", wrong types,
    nesting, big ints, long strings;
  * the stage's real actions ("echo", and "move" from stage 4) with random
    fields, sent by a player in a started game.
Each input is checked against a model of what the server must do with it:
echo a good echo; apply a good move (clamped) and tell exactly the right
players; drop anything else, such as a message with a dict key that is not
text, and keep its sender; close only a sender whose bytes do not decode. The log counts every drop: at most one line a second,
and the rest by the time the sender leaves. After every input the other game plays a
round. At the end its counts are exact, the queue is clean (two newcomers
pair at once) and the server's own account agrees.
"""
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import (MOVE_REPLY, REPORT, STAGES, TERMINATOR, Match, WireClient, dumps, loads,
                     newcomers_pair_at_once, stage_number)

EXAMPLES = 300  # inputs per stage and kind; derandomized, so every run tries the same ones
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ARENA, SPEED = (560, 340), 4  # the stages' rules, for the model of a move
MISSING = object()  # a field left out of the message
FIELDS = ["action", "text", "gameID", "player", "dx", "dy"]

scalars = (st.none() | st.booleans() | st.integers() | st.integers(-2 ** 200, 2 ** 200)
           | st.floats() | st.text(max_size=20) | st.text(max_size=3000))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.sampled_from(FIELDS) | scalars, inner, max_size=4), max_leaves=12)
actions = st.fixed_dictionaries(
    {"action": st.sampled_from(["echo", "move", "startgame", "teleport", ""]) | scalars},
    optional={field: values for field in FIELDS[1:]})


def encode(value):
    """rencode's bytes for a value, or None if a client could not send it either."""
    try:
        raw = dumps(value)
    except (ValueError, TypeError, OverflowError):
        return None  # an int of 64 digits or more
    return raw if len(raw) < 60000 else None  # longer is the oversized-input test's


def decoded(raw):
    try:
        return True, loads(raw)
    except Exception:
        return False, None


def keys_all_text(value):
    """Whether every dict key in a message, at any depth, is a str."""
    if isinstance(value, dict):
        return all(type(key) is str and keys_all_text(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return all(keys_all_text(item) for item in value)
    return True


def clamp(value, low, high):
    return max(low, min(high, value))


class Sender:
    """The fuzzing client, and a model of what the server owes it.

    With a partner (stage 2 on), it plays in a started game, so its moves count.
    """

    def __init__(self, server, partner=False):
        self.server, self.stage, self.with_partner = server, stage_number(server.stage), partner
        self.reply = MOVE_REPLY.get(self.stage)
        self.totals = Counter()  # over every connection, for the report
        self.connect()

    def connect(self):
        self.echoes = self.drops = self.moves = 0
        self.where = None  # where the server has this player, if its moves count
        self.client = WireClient(self.server)
        self.client.wait_for("waiting" if self.stage >= 2 else "connected")  # never a gone player
        self.partner = WireClient(self.server) if self.with_partner and self.stage >= 2 else None
        self.start = self.client.wait_for("startgame") if self.partner else None
        if self.start and self.reply:  # stage 4 on: where it is, by the server's rules
            self.where = list(self.start["positions"][self.start["player"]])

    def expect(self, message):
        """Apply the server's rules to one decoded message, in the model."""
        get = message.get if isinstance(message, dict) else (lambda field: None)
        self.totals["messages"] += 1
        if not keys_all_text(message):  # the servers refuse it before they build its dicts
            self.drops += 1
            self.totals["dropped"] += 1
        elif get("action") == "echo" and isinstance(get("text"), str):
            self.echoes += 1
            self.totals["echoed"] += 1
        elif (get("action") == "move" and self.where and get("gameID") == self.start["gameID"]
              and get("player") == self.start["player"] and type(get("dx")) is int and type(get("dy")) is int):
            self.moves += 1
            self.totals["moved"] += 1
            self.where = [clamp(self.where[0] + clamp(get("dx"), -SPEED, SPEED), 0, ARENA[0]),
                          clamp(self.where[1] + clamp(get("dy"), -SPEED, SPEED), 0, ARENA[1])]
        else:
            self.drops += 1
            self.totals["dropped"] += 1

    def send(self, raws):
        """Send each as one message; check the server did with them what the model says."""
        self.client.send_bytes(b"".join(raw + TERMINATOR for raw in raws))
        for raw in raws:
            ok, message = decoded(raw)
            if not ok:  # the server closes the connection, and reads no further
                self.totals["messages"] += 1
                self.totals["closed"] += 1
                self.client.wait_closed()
                self.client.wait_logged("sent bytes that do not decode")
                self.close()
                return self.connect()
            self.expect(message)
        self.check()

    def check(self):
        self.client.echo("sync")  # the server has handled all that came before
        self.echoes += 1
        assert self.client.count("echo") == self.echoes
        # The log shows at most one drop a second; the count of the rest comes later.
        assert self.client.drops_logged() <= self.drops
        if self.where:
            assert self.client.count(self.reply) == (self.moves if self.stage == 4 else 0)
            if self.moves:
                told = self.partner.wait_for(self.reply, self.moves)
                player = self.start["player"]
                assert (told["positions"][player] if self.stage == 4 else [told["x"], told["y"]]) == self.where
            self.partner.echo("sync")
            assert self.partner.count(self.reply) == self.moves  # no more than that

    def close(self):
        self.client.close()
        if self.partner:
            self.partner.close()
        self.client.wait_logged(r"left \(")  # after the count of drops it had not shown
        assert self.client.drops_logged() == self.drops


def fuzz(server, kind, inputs, partner=False):
    """Send every drawn input while another game plays a round after each; then check it all."""
    match = Match(server)
    sender = Sender(server, partner)

    @FUZZ
    @given(inputs)
    def one_input(raws):
        sender.totals["inputs"] += 1
        sender.send(raws)
        match.play()

    one_input()
    REPORT.setdefault("fuzz", {})[kind, server.stage] = dict(sender.totals)
    sender.check()
    match.check()
    sender.close()
    queue = {"waiting": 0, "games": 1} if sender.stage >= 2 else {}
    server.wait_for_account(connected=2, **queue)
    newcomers_pair_at_once(server, connected=2, games=1)


random_bytes = st.lists(st.binary(max_size=300).filter(lambda raw: TERMINATOR not in raw),
                        min_size=1, max_size=3)
random_values = st.lists((values | actions).map(encode).filter(lambda raw: raw is not None), min_size=1, max_size=3)


@pytest.mark.parametrize("stage", STAGES)
def test_random_bytes(stage, start_server):
    fuzz(start_server(stage), "random bytes", random_bytes)


@pytest.mark.parametrize("stage", STAGES)
def test_random_rencoded_values(stage, start_server):
    fuzz(start_server(stage), "random values", random_values)


RIGHT = {"gameID": st.sampled_from([1, 1.0, True]),  # the sender plays in game 1...
         "player": st.just(0),                          # ...as player 0
         "dx": st.integers(-6, 6) | st.integers(), "dy": st.integers(-6, 6) | st.integers(),
         "text": st.text(max_size=50)}


@st.composite
def real_action(draw, names):
    """One of the stage's own actions with every field right, then up to two of them wrong."""
    message = {"action": draw(st.sampled_from(names))}
    message.update((field, draw(good)) for field, good in RIGHT.items())
    for field in draw(st.sets(st.sampled_from(sorted(RIGHT)), max_size=2)):
        message[field] = draw(values | st.just(MISSING))
    return {field: value for field, value in message.items() if value is not MISSING}


def real_actions(stage):
    names = ["echo", "move"] if stage_number(stage) >= 4 else ["echo"]
    return st.lists(real_action(names).map(encode).filter(lambda raw: raw is not None),
                    min_size=1, max_size=3)


@pytest.mark.parametrize("stage", STAGES)
def test_real_actions_with_random_fields(stage, start_server):
    fuzz(start_server(stage), "real actions", real_actions(stage), partner=True)

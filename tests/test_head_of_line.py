"""Feel head-of-line blocking: tools/lagproxy.py --loss, on TCP as PodSixNet uses it.

A lost chunk reaches the other side one retransmission timeout late (the round
trip plus 200 ms, as Linux computes it), and TCP holds back every byte behind
it until it arrives; then they all arrive at once. Nothing is lost for good,
and the order is kept. The bounds checked are physics: a lost chunk cannot
arrive before its timeout, and nothing behind it can overtake it. How long the
freezes last in a game is measured and reported
(docs/lessons/lesson-9-head-of-line.md), never checked.
"""
import statistics
import time

import pytest

from harness import REPORT, Match, WireClient

RTO_FLOOR = 0.200  # seconds: tools/lagproxy.py's, with no delay added, the whole timeout
FRAME = 1 / 60
TOGETHER = 0.005   # seconds: messages that arrive this close to each other came in one burst
LOSS = 5           # percent, for the echoes: enough losses, and most with no second one behind


def test_a_held_reply_holds_back_the_replies_behind_it(start_server, start_proxy):
    server = start_server("stage1_echo")
    proxy = start_proxy(server, 0, loss=LOSS, wire=True)
    client = WireClient(proxy)
    client.wait_for("connected")
    sent = []
    for number in range(150):  # one echo every 20 ms: 300 chunks cross, about 15 are lost
        sent.append(time.monotonic())
        client.send_message({"action": "echo", "text": str(number)})
        time.sleep(0.02)
    client.wait_for("echo", len(sent))
    replies = [(int(m["text"]), when) for m, when in zip(client.inbox, client.arrived) if m["action"] == "echo"]
    assert [number for number, _ in replies] == list(range(len(sent)))  # none lost for good, in order
    arrived = [when for _, when in replies]
    holds = []  # (the first echo held past the timeout, the echoes sent while it was held)
    for held in range(len(sent)):
        if arrived[held] - sent[held] >= RTO_FLOOR and not (holds and held in holds[-1][1]):
            holds.append((held, [n for n in range(held + 1, len(sent)) if sent[n] < arrived[held]]))
    assert holds, f"{LOSS}% of 300 chunks: some are lost"
    # An echo every 20 ms: several are sent while one is held for 200 ms (not behind the
    # last one, nor behind a hold that a stall of this busy test process made, though)
    assert any(behind for _, behind in holds)
    for held, behind in holds:
        assert all(arrived[n] >= arrived[held] for n in behind)  # none overtook it
    # Those behind it that were not held by a loss of their own arrive with it, in a burst.
    # The clearest example, reported: how long it was held, how many were behind it, and
    # how many of those arrived within TOGETHER of it.
    clearest = max((sum(arrived[n] - arrived[held] < TOGETHER for n in behind), held, behind)
                   for held, behind in holds)
    together, held, behind = clearest
    REPORT.setdefault("head of line", {})[f"echo every 20 ms, LOSS={LOSS}: holds, clearest: held (ms), "
                                          "sent behind it, arrived within 5 ms of it"] = (
        len(holds), (arrived[held] - sent[held]) * 1000, len(behind), together)
    # and the proxy's own view says why: a chunk lost, and the next one waiting for it
    proxy.out.wait_for(r"\(lost, resent \d+ ms late")
    proxy.out.wait_for(r"\(waited \d+ ms behind a late one\)")


def freezes(arrived, threshold=0.1):
    """The gaps of more than `threshold` seconds between messages arriving."""
    return [later - earlier for earlier, later in zip(arrived, arrived[1:]) if later - earlier > threshold]


@pytest.mark.parametrize("loss", [2, 10])
def test_what_the_opponent_sees_of_a_held_key(loss, start_server, start_proxy):
    """The mover sends a move a frame for 4 s; the opponent's "positions" arrive in freezes and bursts."""
    server = start_server("stage4_relay")
    proxy = start_proxy(server, 0, loss=loss)
    match = Match(proxy)
    mover, watcher = match.players
    started = time.monotonic()
    for frame in range(240):
        mover.send_message(match.round(match.rounds + 1))
        match.rounds += 1
        time.sleep(max(0.0, started + (frame + 1) * FRAME - time.monotonic()))
    match.check()  # every move served once, in order: nothing lost for good
    arrived = [when for m, when in zip(watcher.inbox, watcher.arrived) if m["action"] == "positions"]
    gaps = freezes(arrived)
    assert max(gaps) >= RTO_FLOOR  # a loss: everything waited at least one timeout
    seconds = arrived[-1] - arrived[0]
    REPORT.setdefault("head of line", {})[f"stage 4 held key, LOSS={loss}: freezes/s, longest (ms), "
                                          "frozen share, median burst (moves)"] = (
        len(gaps) / seconds, max(gaps) * 1000, f"{sum(gaps) / seconds:.0%}",
        statistics.median(bursts(arrived)))
    match.close()


def bursts(arrived):
    """How many messages arrived together (within TOGETHER of the first) after each freeze."""
    found = []
    for number in range(1, len(arrived)):
        if arrived[number] - arrived[number - 1] > 0.1:
            found.append(sum(1 for when in arrived[number:] if when - arrived[number] < TOGETHER))
    return found or [1]

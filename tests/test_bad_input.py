"""Bad input, every stage: whatever one client sends, the server keeps serving everyone else.

A message that decodes but is wrong is dropped with one log line, and its
sender stays connected. Bytes that do not decode close the sender's
connection; its opponent is told, and the queue stays clean.
"""
import pytest

from harness import MOVE_REPLY, POSIX_AND_WINDOWS, STAGES, TERMINATOR, stage_number, stages_from

pytestmark = POSIX_AND_WINDOWS  # every test here runs with the servers as on Windows too

WRONG_MESSAGES = {
    "a number": 42,
    "a string": "echo",
    "a list": ["echo", "hi"],
    "None": None,
    "a dict without action": {"text": "hi"},
    "an unknown action": {"action": "teleport"},
    "a number as action": {"action": 7},
    "None as action": {"action": None},
    "a list as action": {"action": ["echo"]},
    "echo without text": {"action": "echo"},
    "echo with a number": {"action": "echo", "text": 5},
    "echo with None": {"action": "echo", "text": None},
    "echo with a list": {"action": "echo", "text": ["hi"]},
    "echo with a huge int": {"action": "echo", "text": 2 ** 200},
    "a server's message": {"action": "startgame", "gameID": 0, "player": 0},
}

UNDECODABLE = {
    "junk bytes": b"\xff\xfe not rencode",
    "an empty message": b"",
    "a message with junk after it": b"g\x81a\x01x",
}


def start_with_a_game_in_play(stage, start_server, connect, connect_pair):
    """A server, two players in a game (in stage 1, two clients), and a third client."""
    server = start_server(stage)
    return server, connect_pair(server), connect(server.port)


@pytest.mark.parametrize("case", WRONG_MESSAGES)
@pytest.mark.parametrize("stage", STAGES)
def test_a_wrong_message_is_dropped_and_its_sender_kept(stage, case, start_server, connect, connect_pair):
    server, players, sender = start_with_a_game_in_play(stage, start_server, connect, connect_pair)
    sender.send_now(WRONG_MESSAGES[case])
    server.out.wait_for(r"; dropped$")
    sender.echo()  # still connected, still served
    for player in players:
        player.echo()
    if stage_number(stage) >= 2:  # and still in the queue: the next newcomer pairs with it
        connect(server.port).wait_for("startgame")
        sender.wait_for("startgame")
        server.wait_for_account(connected=4, waiting=0, games=2)


@pytest.mark.parametrize("case", UNDECODABLE)
@pytest.mark.parametrize("stage", STAGES)
def test_undecodable_bytes_close_only_their_sender(stage, case, start_server, connect, connect_pair):
    server, players, sender = start_with_a_game_in_play(stage, start_server, connect, connect_pair)
    sender.push(UNDECODABLE[case] + TERMINATOR)
    sender.wait_closed()
    server.out.wait_for("do not decode")
    for player in players:
        player.echo()
    if stage_number(stage) >= 2:  # the sender left the queue: a newcomer waits
        server.wait_for_account(connected=2, waiting=0, games=1)
        connect(server.port).wait_for("waiting")


@pytest.mark.parametrize("stage", stages_from(2))
def test_a_player_cut_off_for_junk_is_reported_to_its_opponent(stage, start_server, connect_pair):
    server = start_server(stage)
    sender, opponent = connect_pair(server)
    sender.push(b"\xff junk" + TERMINATOR)
    opponent.wait_for("opponentleft")
    opponent.wait_for("waiting")
    server.wait_for_account(connected=1, waiting=1, games=0)


GONE, OTHER_GAME, OTHER_PLAYER = object(), object(), object()  # stand-ins, filled in per test
BAD_MOVES = {
    "another game's ID": {"gameID": OTHER_GAME},
    "the other player's number": {"player": OTHER_PLAYER},
    "no gameID": {"gameID": GONE},
    "no player": {"player": GONE},
    "no dx": {"dx": GONE},
    "no dy": {"dy": GONE},
    "dx as a string": {"dx": "4"},
    "dy as None": {"dy": None},
    "dx as a float": {"dx": 4.0},
    "dy as a list": {"dy": [4]},
    "dx as True": {"dx": True},
    "player as a float": {"player": 0.5},
}


def move(start, dx=4, dy=0):
    """A good move for the player that got this startgame."""
    return {"action": "move", "gameID": start["gameID"], "player": start["player"], "dx": dx, "dy": dy}


def bad_move(start, case, other_game):
    message = move(start)
    for field, value in BAD_MOVES[case].items():
        if value is GONE:
            del message[field]
        elif value is OTHER_GAME:
            message[field] = other_game
        elif value is OTHER_PLAYER:
            message[field] = 1 - start["player"]
        else:
            message[field] = value
    return message


def heard(observer, player, reply):
    """(where observer last heard that player is, how many move replies it has had)."""
    replies = [m for m in observer.inbox if m["action"] == reply]
    where = observer.wait_for("startgame")["positions"][player]
    for message in replies:
        if reply == "positions":
            where = message["positions"][player]
        elif message["player"] == player:
            where = [message["x"], message["y"]]
    return where, len(replies)


def moved_once(mover, watcher, reply):
    """Send one good move; the watcher hears of exactly that one move, one step on."""
    start = mover.wait_for("startgame")
    mover.send_now(move(start))
    watcher.wait_for(reply)
    x, y = start["positions"][start["player"]]
    assert heard(watcher, start["player"], reply) == ([x + 4, y], 1)


@pytest.mark.parametrize("case", BAD_MOVES)
@pytest.mark.parametrize("stage", stages_from(4))
def test_a_bad_move_changes_nothing_and_the_games_go_on(stage, case, start_server, connect_pair):
    reply = MOVE_REPLY[stage_number(stage)]
    server = start_server(stage)
    player, watcher = connect_pair(server)  # a game that keeps playing
    cheat, victim = connect_pair(server)
    other_game = player.wait_for("startgame")["gameID"]
    cheat.send_now(bad_move(cheat.wait_for("startgame"), case, other_game))
    server.out.wait_for(r"; dropped$")
    moved_once(cheat, victim, reply)     # so the bad move moved no one and told no one
    moved_once(player, watcher, reply)   # and the other game went on, untouched


@pytest.mark.parametrize("stage", stages_from(4))
def test_a_huge_step_is_clamped_to_the_speed(stage, start_server, connect_pair):
    reply = MOVE_REPLY[stage_number(stage)]
    server = start_server(stage)
    cheat, victim = connect_pair(server)
    start = cheat.wait_for("startgame")
    cheat.send_now(move(start, dx=10 ** 9, dy=-(10 ** 9)))
    victim.wait_for(reply)
    x, y = start["positions"][start["player"]]
    assert heard(victim, start["player"], reply) == ([x + start["speed"], y - start["speed"]], 1)


@pytest.mark.parametrize("stage", stages_from(4))
def test_a_move_before_startgame_is_dropped(stage, start_server, connect, connect_pair):
    server = start_server(stage)
    connect_pair(server)  # game 0 plays; the next game will be game 1
    early = connect(server.port)
    early.wait_for("waiting")
    early.send_now({"action": "move", "gameID": 1, "player": 0, "dx": 4, "dy": 0})
    server.out.wait_for(r"; dropped$")
    partner = connect(server.port)
    assert early.wait_for("startgame")["gameID"] == 1
    moved_once(partner, early, MOVE_REPLY[stage_number(stage)])  # the early move moved no one
    assert early.actions()[:3] == ["connected", "waiting", "startgame"]

"""startgame, from stage 3 on: each player learns its gameID and its player number."""
import pytest

from harness import stages_from


@pytest.mark.parametrize("stage", stages_from(3))
def test_each_game_has_its_own_id_and_players_0_and_1(stage, start_server, connect_pair):
    server = start_server(stage)
    games = []
    for _ in range(3):
        first, second = connect_pair(server)
        games.append((first.wait_for("startgame"), second.wait_for("startgame")))
    for first, second in games:
        assert isinstance(first["gameID"], int) and first["gameID"] == second["gameID"]
        assert (first["player"], second["player"]) == (0, 1)  # 0 waited, 1 joined
        assert first["positions"] == second["positions"] and len(first["positions"]) == 2
        width, height = first["arena"]
        assert all(0 <= x <= width and 0 <= y <= height for x, y in first["positions"])
    assert len({first["gameID"] for first, _ in games}) == 3


@pytest.mark.parametrize("stage", stages_from(3))
def test_a_requeued_player_gets_a_new_game_id(stage, start_server, connect, connect_pair):
    server = start_server(stage)
    leaver, stayer = connect_pair(server)
    old = stayer.wait_for("startgame")
    leaver.leave()
    stayer.wait_for("waiting")  # back in the queue, so the newcomer joins the stayer's game
    connect(server.port)
    new = stayer.wait_for("startgame", count=2)
    assert new["gameID"] != old["gameID"]
    assert new["player"] == 0  # the stayer was the one waiting this time


@pytest.mark.parametrize("stage", stages_from(3))
def test_windows_show_game_and_player(stage, start_server, start_two_games):
    server = start_server(stage)
    one, two = (game.snapshot() for game in start_two_games(stage, server.port))
    assert one["game_id"] == two["game_id"] and (one["number"], two["number"]) == (0, 1)
    assert one["state"] == f"in game {one['game_id']} as player 0"
    assert one["positions"] == two["positions"]

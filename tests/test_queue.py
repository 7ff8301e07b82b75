"""The queue, from stage 2 on: newcomers are paired, and nobody is paired with a player who has gone."""
import pytest

from harness import POSIX_AND_WINDOWS, stages_from

pytestmark = POSIX_AND_WINDOWS  # every test here runs with the servers as on Windows too


@pytest.mark.parametrize("stage", stages_from(2))
def test_first_player_waits_and_second_starts_the_game(stage, start_server, connect):
    server = start_server(stage)
    first = connect(server.port)
    first.wait_for("waiting")
    second = connect(server.port)
    first.wait_for("startgame")
    second.wait_for("startgame")
    assert first.actions() == ["connected", "waiting", "startgame"]
    assert second.actions() == ["connected", "startgame"]
    server.wait_for_account(connected=2, waiting=0, games=1)


@pytest.mark.parametrize("stage", stages_from(2))
def test_a_waiting_player_who_left_is_never_paired(stage, start_server, connect):
    server = start_server(stage)
    gone = connect(server.port)
    gone.wait_for("waiting")
    gone.leave()
    server.wait_for_account(connected=0, waiting=0, games=0)
    newcomer = connect(server.port)
    newcomer.wait_for("waiting")  # not "startgame" with a player who has gone
    partner = connect(server.port)
    newcomer.wait_for("startgame")
    partner.wait_for("startgame")
    server.wait_for_account(connected=2, waiting=0, games=1)


@pytest.mark.parametrize("stage", stages_from(2))
def test_opponent_left_then_back_in_the_queue(stage, start_server, connect, connect_pair):
    server = start_server(stage)
    leaver, stayer = connect_pair(server)
    leaver.leave()
    stayer.wait_for("waiting")
    server.wait_for_account(connected=1, waiting=1, games=0)
    newcomer = connect(server.port)
    stayer.wait_for("startgame", count=2)
    newcomer.wait_for("startgame")
    assert stayer.actions() == ["connected", "startgame", "opponentleft", "waiting", "startgame"]
    server.wait_for_account(connected=2, waiting=0, games=1)


@pytest.mark.parametrize("stage", stages_from(2))
def test_server_forgets_everyone_who_left(stage, start_server, connect):
    server = start_server(stage)
    clients = [connect(server.port) for _ in range(9)]
    server.wait_for_account(connected=9, waiting=1, games=4)
    for client in clients:
        client.leave()
    server.wait_for_account(connected=0, waiting=0, games=0)


@pytest.mark.parametrize("stage", stages_from(2))
def test_windows_show_waiting_game_and_opponent_left_until_the_next_game(stage, start_server, start_game,
                                                                        start_two_games):
    server = start_server(stage)
    first, second = start_two_games(stage, server.port)
    assert second.close_window()["running"] is False
    shown = first.until("state == 'waiting for an opponent' and notice is not None")
    assert "opponent left" in shown["notice"]
    assert shown["wire"]["actions"][-2:] == ["opponentleft", "waiting"]
    start_game(stage, server.port)  # a new opponent: the news of the last one goes
    assert first.until("state.startswith('in game')")["notice"] is None

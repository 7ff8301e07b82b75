"""Fixtures that start real servers, clients and games, and clean up after each test."""
import os

import pytest

from harness import HEADLESS, GameProcess, RawClient, ServerProcess

os.environ.update(HEADLESS)  # no window, no sound, on any machine


@pytest.fixture
def start_server():
    """start_server(stage) -> a running ServerProcess; each must stop cleanly afterwards."""
    servers = []

    def start(stage, *args):
        servers.append(ServerProcess(stage, *args))
        return servers[-1]

    yield start
    for server in servers:
        code = server.stop()
        assert code == 0, f"{server.stage} server exited with {code}:\n{server.err.text()}"
        assert "Traceback" not in server.err.text(), server.err.text()


@pytest.fixture
def connect():
    """connect(port) -> a RawClient that has had its "connected" greeting."""
    clients = []

    def open_client(port):
        clients.append(RawClient(port))
        clients[-1].wait_for("connected")
        return clients[-1]

    yield open_client
    for client in clients:
        client.close()


@pytest.fixture
def start_game():
    """start_game(stage, port) -> a GameProcess running that stage's real game.py."""
    games = []

    def start(stage, port):
        games.append(GameProcess(stage, port))
        return games[-1]

    yield start
    for game in games:
        game.kill()
        assert "Traceback" not in game.err.text(), game.err.text()

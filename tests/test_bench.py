"""The parts of make bench and make profile that decide what their figures say.

The measurements themselves take minutes and depend on the machine, so they
are not run here (no test passes or fails on speed). What is checked: the
capacity search finds the edge it is looking for, and stops; the chart is
drawn; another checkout is measured beside this one, each build with its own
ratios; a profiler's sample lands in the part of the work it belongs to; and a
real server's turns are counted.
"""
import shutil
import signal

import pytest

from bench import BASELINE, FIRST_SEARCH, REPEATED_SEARCH, ROOT, Search, Server, build, draw_chart, print_table, servers
from profile_server import OTHER, PARTS, part_of

STEP_LIMIT = 16  # loaded runs one search may take; each is several seconds


def search(threshold, games, factor, bisections, max_games=2000):
    """A search against a server that holds up to `threshold` games: (held, at_limit, loads tried)."""
    found = Search(Server("server", "stage5_optimized", {}, max_games), games, factor, bisections)
    tried = []
    while not found.done and len(tried) <= STEP_LIMIT:
        tried.append(found.games)
        found.told(found.games, found.games <= threshold)
    return (*found.result(), tried)


FIRST, REPETITION = FIRST_SEARCH, (309, *REPEATED_SEARCH)  # a repetition starts where the first ended


@pytest.mark.parametrize("threshold, games, factor, bisections",
                         [(threshold, *FIRST) for threshold in (1, 37, 320, 449, 1999)] +
                         [(threshold, *REPETITION) for threshold in (240, 308, 309, 320, 400)])
def test_a_search_finds_the_most_games_held_to_within_one_step(threshold, games, factor, bisections):
    held, at_limit, tried = search(threshold, games, factor, bisections)
    assert len(tried) <= STEP_LIMIT
    assert not at_limit
    assert held == max(g for g in tried if g <= threshold)  # what it reports, it tried, and it held
    fewest_failed = min(g for g in tried if g > threshold)
    assert fewest_failed - held <= held * (factor - 1) + 1  # the edge, to within one step (rounded)


def test_a_search_stops_where_it_is_told_and_says_so():
    held, at_limit, tried = search(10_000, *FIRST, max_games=500)
    assert (held, at_limit, tried[-1]) == (500, True, 500)


def test_a_search_where_nothing_holds_ends_at_none():
    held, at_limit, tried = search(0, *FIRST)
    assert (held, at_limit, tried[-1]) == (0, False, 1)
    assert len(tried) <= STEP_LIMIT


def test_the_chart_is_drawn_from_every_run(tmp_path):
    pygame = pytest.importorskip("pygame")
    steps = {name: [{"games": games, "p50": games / 20, "p99": games / 2} for games in (1, 100, 150, 150, 300)]
             for name in ("stage4_relay", "stage5_optimized", "PodSixNet's loop")}
    draw_chart(str(tmp_path / "chart.png"), steps)
    picture = pygame.image.load(str(tmp_path / "chart.png"))
    assert picture.get_size() == (960, 560)
    colours = {tuple(picture.get_at((x, y)))[:3] for x in range(0, 960, 2) for y in range(0, 560, 2)}
    from bench import COLOURS
    assert set(COLOURS.values()) <= colours  # a line for every server


def test_another_checkout_is_measured_beside_this_one_with_ratios_of_its_own(tmp_path, capsys):
    copy = tmp_path / "my-copy"  # a changed copy of the kit, not a git checkout: named by its folder
    for stage in ("stage4_relay", "stage5_optimized"):
        shutil.copytree(ROOT / stage, copy / stage)
    measured = servers(100, [str(copy)])
    assert [server.name for server in measured[-2:]] == ["stage4_relay at my-copy", "stage5_optimized at my-copy"]
    assert measured[-1].stage == str(copy / "stage5_optimized")
    assert build(str(ROOT)) == build(str(ROOT / "tests"))  # this checkout: its commit, the same from anywhere in it
    rows = {}
    for server in measured:
        costly = server.name.endswith("my-copy")  # the copy: one and a half times this checkout's CPU
        rows[server.name] = {"idle": 0.0, "p50": 0.2, "p99": 0.5, "per_move": None}
        if server.name.startswith(("stage4", "stage5")) or server.name == BASELINE:
            five = "stage5" in server.name or server.name == BASELINE
            rows[server.name].update(per_move=(1.0, 40.0) if five else (2.0, 96.0),
                                     cpu_per_1000=[(0.03 if five else 0.04) * (1.5 if costly else 1)] * 3,
                                     cpu_together=[0.025 if five else 0.032] * 3)
    print_table(rows, measured)
    printed = capsys.readouterr().out
    assert "| `stage5_optimized at my-copy` | 1.00 | 40.0 | 0.045 (0.045–0.045) |" in printed
    assert "stage 5 / stage 4: messages x0.50, bytes x0.42, CPU per move x0.75 spread" in printed
    assert "stage 5 at my-copy: CPU per move spread / all at once x1.80 (medians)" in printed
    assert "stage 5: CPU per move spread / all at once x1.20 (medians)" in printed


# py-spy's frames, outermost first: from Python 3.11 with the class, before it without.
RECEIVED = ["<module> (server.py:420)", "main (server.py:413)", "GameServer.serve_forever (server.py:144)",
            "ArmouredServer.Pump (server.py:314)", "poll2 (asyncore.py:193)", "readwrite (asyncore.py:113)",
            "dispatcher.handle_read_event (asyncore.py:425)", "async_chat.handle_read (asynchat.py:178)",
            "ArmouredChannel.found_terminator (server.py:236)"]
SAMPLES = [
    (RECEIVED + ["PlayerChannel.Network_move (server.py:80)", "Channel.Send (PodSixNet/Channel.py:35)",
                 "dumps (PodSixNet/rencode.py:457)", "encode_dict (PodSixNet/rencode.py:418)"], 2),
    (RECEIVED + ["PlayerChannel.Network_move (server.py:80)", "Channel.Send (PodSixNet/Channel.py:35)"], 2),
    (RECEIVED + ["PlayerChannel.Network_move (server.py:74)"], 0),
    (RECEIVED + ["loads (PodSixNet/rencode.py:333)",
                 "make_fixed_length_dict_decoders.<locals>.make_decoder.<locals>.f (PodSixNet/rencode.py:320)"], 1),
    (RECEIVED[:-2] + ["handle_read (asynchat.py:178)"], 1),
    (RECEIVED[:4] + ["Channel.Pump (PodSixNet/Channel.py:30)", "async_chat.push (asynchat.py:203)",
                     "async_chat.initiate_send (asynchat.py:251)", "dispatcher.send (asyncore.py:363)"], 2),
    (RECEIVED[:4] + ["Channel.Pump.<locals>.<listcomp> (PodSixNet/Channel.py:30)"], 3),
    (RECEIVED[:4] + ["ArmouredChannel.unsent_bytes (server.py:253)"], 3),
    (RECEIVED[:4] + ["unsent_bytes (server.py:253)"], 3),
    (RECEIVED[:4], 3),
    (RECEIVED[:5], 4),
    (RECEIVED[:5] + ["async_chat.writable (asynchat.py:225)"], 4),
    (RECEIVED[:4] + ["ArmouredServer.wait (server.py:571)"], 4),
    (RECEIVED[:4] + ["ArmouredServer.watch (server.py:588)", "ArmouredChannel.readable (server.py:260)"], 4),
    (RECEIVED[:4] + ["ArmouredServer.wait (server.py:571)", "Selecting.poll (server.py:735)"], 4),
    (RECEIVED[:4] + ["Selecting.serve_ready (server.py:750)", "read (asyncore.py:83)",
                     "dispatcher.handle_read_event (asyncore.py:425)"], 1),
    (RECEIVED + ["PlayerChannel.Network_move (server.py:80)", "ArmouredChannel.Send (server.py:268)"], 2),
    (RECEIVED[:3], None),
]


@pytest.mark.parametrize("stack, part", SAMPLES, ids=[stack[-1].split(" (")[0] for stack, _ in SAMPLES])
def test_a_sample_goes_to_the_part_of_the_work_that_took_it(stack, part):
    assert part_of(stack) == (OTHER if part is None else PARTS[part][0])


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="counts on SIGUSR1")
@pytest.mark.parametrize("podsixnet_loop", [False, True], ids=["armour's loop", "PodSixNet's loop"])
def test_the_turns_of_a_servers_loop_are_counted(podsixnet_loop, start_server, connect):
    """make profile's turns (tests/run_as.py --turns): every wait of the loop is one."""
    server = start_server("stage5_optimized", turns=True, podsixnet_loop=podsixnet_loop)
    before = server.turns()
    connect(server.port).echo()
    assert server.turns() > before

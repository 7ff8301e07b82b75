"""Regenerates the kit's screenshots, and their captions, from the real stages, headless.

    make screenshots        (or: python tests/screenshots.py [PICTURE ...], those alone)

Each picture is a real game.py window, connected to a real server.py and
driven by scripted keys, saved as docs/<stage>.png. Its caption's figures come
from that game at the moment of the screenshot: docs/screenshots.json keeps
them, with the caption, and every page that shows the picture (README.md and
docs/**/*.md) shows the caption as its alt text and again, in italics, under it
(tests/test_readme_captions.py checks that they agree). Run it again whenever a
stage's drawing changes.

The class view's picture (tools/classview.py) is its window, with real games
in progress: its scene starts the view itself (OWN_SERVER).
"""
import json
import re
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from harness import STAGES, GameProcess, ServerProcess, WireClient, encode, stage_number, wait_until
from pages import DOCS, markdown_pages, name, read

FIGURES = DOCS / "screenshots.json"
SHOWN = ("state", "sent", "received", "round_trip_ms", "game_id", "number")  # what a game draws as text
# A picture's line on a page, its path relative to the page: docs/x.png, ../x.png, x.png.
IMAGE = re.compile(r"!\[[^\]]*\]\((?P<path>(?:[^)\s]*/)?(?P<stage>[^)/\s]+)\.png)\)")
ITALIC = re.compile(r"\*[^*\s].*\*")                              # a caption's line under it


def echo(game, times=1):
    """Press space and let the reply arrive, so the round trip on screen is fresh."""
    for _ in range(times):
        game.echo()
        game.frames(5)


def two_games(stage, server, cleanup, names=("player", "player")):
    first = cleanup(GameProcess(stage, server.port, name=names[0]))
    first.until("state == 'waiting for an opponent'")
    second = cleanup(GameProcess(stage, server.port, name=names[1]))
    first.until("state.startswith('in game')")
    second.until("state.startswith('in game')")
    return first, second


def after_a_few_echoes(stage, server, cleanup):  # stage 1
    game = cleanup(GameProcess(stage, server.port))
    game.until("round_trip_ms is not None")
    echo(game, times=3)
    return game


def waiting_alone(stage, server, cleanup):  # stage 2
    game = cleanup(GameProcess(stage, server.port))
    game.until("state == 'waiting for an opponent'")
    echo(game)
    return game


def both_in_game(stage, server, cleanup):  # stage 3
    first, second = two_games(stage, server, cleanup)
    echo(first)
    echo(second)
    return second


def mid_match(stage, server, cleanup):  # stages 4 and 5
    first, second = two_games(stage, server, cleanup)
    first.frames(30, keydown=["right", "down"])
    first.frames(1, keyup=["right", "down"])
    second.frames(25, keydown=["left", "up"])
    second.frames(1, keyup=["left", "up"])
    first.frames(20, keydown=["right"])  # still holding the key: the counters are climbing
    second.frames(5)
    echo(second)
    echo(first)
    return first


def net_graph_while_holding_a_key(stage, server, cleanup):  # stages 4 and 5, G pressed
    first, second = two_games(stage, server, cleanup)
    first.frames(1, keydown=["g"], keyup=["g"])
    first.frames(150, keydown=["right"])  # still holding: the graph shows two and a half seconds of it
    return first


FLOOD = 1500  # moves the cheat in the class view's picture sends for its opponent


def the_class_view(stage, picture, stack, cleanup):
    """Stage 4's class view: three games moving, a fourth with a player who floods moves for
    the opponent (the server drops them), and a student waiting. Returns the figures shown."""
    state = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "view.json"
    server = ServerProcess(stage, "--state", state, view=True)
    stack.callback(server.stop)
    names = iter(f"student{number}" for number in range(1, 9))  # as a school's logins name its laptops
    games = [game for _ in range(3) for game in two_games(stage, server, cleanup, (next(names), next(names)))]
    cleanup(GameProcess(stage, server.port, name=next(names))).until("state == 'waiting for an opponent'")
    cheat = WireClient(server)
    stack.callback(cheat.close)
    start = cheat.wait_for("startgame")
    cleanup(GameProcess(stage, server.port, name=next(names))).until("state == 'waiting for an opponent'")
    for game, keys in zip(games, (["right"], ["left", "up"], ["down"], ["up"], ["right", "up"], ["left"])):
        game.ask(cmd="frames", count=240, keydown=keys, keyup=[])  # all at once, holding a key

    def shown():
        try:
            return json.loads(state.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
    wait_until(lambda: shown().get("totals", {}).get("in_per_s", 0) > 120, "the games to move in the view")
    bad_move = {"action": "move", "gameID": start["gameID"], "player": 1 - start["player"], "dx": 4, "dy": 0}
    cheat.send_bytes(encode(bad_move) * FLOOD)  # moves for its opponent, all at once: each is dropped
    wait_until(lambda: shown().get("totals", {}).get("dropped", 0), "the view to show the drops")
    asked = Path(f"{state}.picture")
    asked.write_text(str(picture), encoding="utf-8")  # the window takes it, and says what it shows
    wait_until(lambda: not asked.exists(), "the class view's picture")
    for game in games:
        game.answer()
    view = json.loads(Path(f"{state}.picture.json").read_text(encoding="utf-8"))
    totals = view["totals"]
    return {"stage": stage_number(stage), **{key: totals[key] for key in ("connected", "games", "waiting")},
            "dropped": totals["dropped"], "in_per_s": round(totals["in_per_s"]),
            "out_per_s": round(totals["out_per_s"]),
            "flagged": sum(1 for student in view["students"] if student["dropped"])}


NET_GRAPH = ("Stage {stage} net graph: player {number} holds an arrow key; "
             "in {in_per_s:.0f} messages/s, out {out_per_s:.0f} messages/s")
MID_MATCH = "Stage {stage} mid-match: player {number} holds an arrow key; sent {sent}, received {received}"
SCENES = {  # picture: (its scene, its caption, filled in with the figures of the picture)
    "stage1_echo": (after_a_few_echoes, "Stage {stage} after a few echoes: {state}, sent {sent}, "
                                        "received {received}, round trip {round_trip_ms:.1f} ms"),
    "stage2_queue": (waiting_alone, "Stage {stage}: one game alone, {state}"),
    "stage3_startgame": (both_in_game, "Stage {stage}: both players in game {game_id}; "
                                       "this window is player {number}"),
    "stage4_relay": (mid_match, MID_MATCH),
    "stage5_optimized": (mid_match, MID_MATCH),
    "stage4_netgraph": (net_graph_while_holding_a_key, NET_GRAPH),
    "stage5_netgraph": (net_graph_while_holding_a_key, NET_GRAPH),
    "stage4_classview": (the_class_view, "The class view of stage {stage}: {connected} students, {games} games, "
                                         "{waiting} waiting; in {in_per_s} messages/s, out {out_per_s}; "
                                         "{dropped} moves dropped, all sent by {flagged} student")}
OWN_SERVER = {"stage4_classview"}  # scenes that start their own server (the class view) and take the picture


def stage_of(picture):
    """The stage folder a picture is taken in: the one with its number."""
    return next(stage for stage in STAGES if stage_number(stage) == stage_number(picture))


def figures(stage, snapshot):
    """What the picture shows in words and numbers; the round trip as drawn, to 0.1 ms."""
    shown = {name: snapshot[name] for name in SHOWN}
    if shown["round_trip_ms"] is not None:
        shown["round_trip_ms"] = float(f"{shown['round_trip_ms']:.1f}")
    if snapshot["graph"]["shown"]:  # as the graph draws them: whole messages a second
        shown.update({name: round(snapshot["graph"][name]) for name in ("in_per_s", "out_per_s")})
    return {"stage": stage_number(stage), **shown}


def caption(picture, figures):
    return SCENES[picture][1].format(**figures)


def picture_lines(path, caption):
    """A picture on a page: its caption as alt text, and again, visibly, in italics under it
    (a paragraph of its own, so that it shows under the picture rather than beside it)."""
    return [f"![{caption}]({path})", "", f"*{caption}.*"]


def recaption(page, text, captions):
    """A page's text with each captioned picture's lines rewritten, the italic line added if
    missing; and the stages whose picture it shows. No other line changes. A picture is
    one of docs/*.png, by its path from the page (docs/bench/*.png are not captioned here)."""
    lines, out, shown = text.split("\n"), [], set()
    while lines:
        line = lines.pop(0)
        picture = IMAGE.fullmatch(line)
        if not picture or picture["stage"] not in captions or \
                (page.parent / picture["path"]).resolve() != (DOCS / f"{picture['stage']}.png").resolve():
            out.append(line)
            continue
        shown.add(picture["stage"])
        out += picture_lines(picture["path"], captions[picture["stage"]])
        if lines[:1] == [""] and ITALIC.fullmatch((lines[1:2] or [""])[0]):
            del lines[:2]  # the old caption
    return "\n".join(out), shown


def main():
    DOCS.mkdir(exist_ok=True)
    wanted = sys.argv[1:] or list(SCENES)  # python tests/screenshots.py stage4_classview: that one alone
    pictures = json.loads(FIGURES.read_text(encoding="utf-8")) if FIGURES.exists() else {}
    pictures = {picture: pictures[picture] for picture in SCENES if picture in pictures}  # in SCENES' order
    for picture, (scene, _) in SCENES.items():
        if picture not in wanted:
            continue
        stage = stage_of(picture)
        with ExitStack() as stack:
            def cleanup(game):
                stack.callback(game.kill)
                return game

            if picture in OWN_SERVER:
                drawn = scene(stage, DOCS / f"{picture}.png", stack, cleanup)
            else:
                server = ServerProcess(stage)
                stack.callback(server.stop)
                game = scene(stage, server, cleanup)
                drawn = figures(stage, game.screenshot(DOCS / f"{picture}.png"))  # no frame has run since
            pictures[picture] = {"caption": caption(picture, drawn), "figures": drawn}
            print(f"docs/{picture}.png: {pictures[picture]['caption']}")
    FIGURES.write_text(json.dumps(pictures, indent=2) + "\n", encoding="utf-8")
    print(f"docs/{FIGURES.name}")
    captioned = set()
    for page in markdown_pages():  # a page may be open in an editor too: each in one quick step
        text, shown = recaption(page, read(page), {stage: picture["caption"] for stage, picture in pictures.items()})
        if shown:
            page.write_text(text, encoding="utf-8")
            print(f"{name(page)}: captions of {', '.join(sorted(shown))}")
        captioned |= shown
    for stage in pictures.keys() - captioned:
        print(f"No page shows docs/{stage}.png: only {FIGURES.name} has its caption", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

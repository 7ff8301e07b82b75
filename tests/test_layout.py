"""Every stage file opens with its lesson; the armour follows one `# Armour` line
and is the same in every stage, so that `make diff` shows only the lessons."""
import re

import pytest

from harness import ROOT, STAGES

FILES = ("server.py", "game.py")
# Names a reader must not meet in a lesson: asyncore's and asynchat's machinery,
# PodSixNet's insides that the armour replaces, and the armour's limits.
NOT_IN_A_LESSON = ("asyncore", "asynchat", "poll", "_ibuffer", "producer_fifo", "found_terminator",
                   "collect_incoming_data", "ac_in_buffer_size", "unsent", "READ_BYTES",
                   "MAX_MESSAGE_BYTES", "MAX_UNSENT_BYTES", "MAX_PLAYERS", "SELECT_LIMIT", "VANISHING",
                   "notice_vanishing", "TCP_")
STAGE1_SERVER_LESSON_LINES = 90  # issue: "the whole lesson fits in about the first 90 lines"


def split(stage, file):
    """(the lesson, the armour) of one stage file, cut at its `# Armour` line."""
    lines = (ROOT / stage / file).read_text(encoding="utf-8").splitlines(keepends=True)
    fences = [n for n, line in enumerate(lines) if line.startswith("# Armour")]
    assert len(fences) == 1, f"{stage}/{file}: {len(fences)} lines start with '# Armour'"
    return "".join(lines[:fences[0]]), "".join(lines[fences[0]:])


@pytest.mark.parametrize("file", FILES)
def test_the_armour_is_the_same_in_every_stage(file):
    first, *others = (split(stage, file)[1] for stage in STAGES)
    for stage, armour in zip(STAGES[1:], others):
        assert armour == first, f"{stage}/{file} differs from {STAGES[0]}/{file} below '# Armour'"


@pytest.mark.parametrize("file", FILES)
@pytest.mark.parametrize("stage", STAGES)
def test_a_lesson_names_no_internals_and_no_limits(stage, file):
    lesson = split(stage, file)[0]
    found = [name for name in NOT_IN_A_LESSON if name in lesson]
    assert not found, f"{stage}/{file} names {found} above '# Armour'"


# The frame loop, in its order: events, update, draw, flip, tick.
FRAME = ("for event in pygame.event.get():", "game.handle_event(event)", "game.update()",
         "game.draw(screen)", "pygame.display.flip()", "clock.tick(FPS)")


@pytest.mark.parametrize("stage", STAGES)
def test_the_games_lesson_holds_the_frame_loop_that_main_runs(stage):
    lesson, armour = split(stage, "game.py")
    play = re.search(r"^def play\(game, screen\):\n(.*?)(?=^\S|\Z)", lesson, re.S | re.M)
    assert play, f"{stage}/game.py has no play(game, screen) above '# Armour'"
    steps = [play.group(1).find(step) for step in FRAME]
    assert -1 not in steps and steps == sorted(steps), f"{stage}/game.py: play() lacks {FRAME} in order"
    main = re.search(r"^def main\(\):\n(.*?)(?=^\S)", armour, re.S | re.M).group(1)
    assert "play(game, screen)" in main and not any(step in main for step in FRAME[1:])


def test_the_frame_loop_is_the_same_in_every_stage():
    def play(stage):
        lesson = split(stage, "game.py")[0]
        return lesson[lesson.index("\ndef play("):]  # to the end of the lesson

    assert len({play(stage) for stage in STAGES}) == 1


def test_stage1_server_lesson_is_short_enough_to_read_aloud():
    lesson = split(STAGES[0], "server.py")[0]
    assert lesson.count("\n") <= STAGE1_SERVER_LESSON_LINES


def test_stage5_game_moves_itself_with_the_servers_own_lines():
    def rule(stage, file):
        text = (ROOT / stage / file).read_text(encoding="utf-8")
        return re.search(r"^def moved\(.*?(?=^def log|^def play|^# Armour)", text, re.S | re.M).group(0)

    assert rule("stage5_optimized", "game.py") == rule("stage5_optimized", "server.py") \
        == rule("stage4_relay", "server.py")


def test_readmes_code_excerpts_are_the_stages_own_lines():
    stage_files = [(ROOT / stage / file).read_text(encoding="utf-8") for stage in STAGES for file in FILES]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"```python\n(.*?)```", readme, re.S):
        for excerpt in re.split(r"^ *\.\.\.\n", block, flags=re.M):  # "..." stands for lines left out
            assert any(excerpt in text for text in stage_files), f"README quotes lines no stage has:\n{excerpt}"

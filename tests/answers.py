"""The lessons' answers to their exercises, applied to a copy of a stage, as a student would.

The reading and applying are tools/lessonanswers.py's (`kit.py tag` builds the capstone
with them too). An answer that changes code shows the change as a diff on a lesson page
(any of README.md and docs/**/*.md), inside its teacher block, after a marker that names it:

    <!-- answer stage2-2 -->
    ```diff
    --- stage2_queue/server.py
    +++ stage2_queue/server.py
    @@ GameServer.player_left @@
    -            self.waiting_game = None  # so nobody is ever paired with a player who has gone
    +            pass
    ```

A hunk needs no line numbers: its context and removed lines must appear exactly
once in the file, and are replaced by its context and added lines. So a diff
that no longer fits the stage fails its test, and no page can drift from the
code. tests/test_exercises.py applies each answer to a copy and checks what the
answer says happens.
"""
import shutil
from pathlib import Path

from pages import ROOT
from lessonanswers import answers, apply, capstone_steps, hunks  # noqa: F401 (tools/lessonanswers.py)


def changed_copy(stage, where, old, new):
    """A copy of a stage folder under `where`, with `old` (once in one of its two
    files) replaced by `new`: a student's edit that is not one of the lessons' answers."""
    copy = Path(where) / stage
    shutil.copytree(ROOT / stage, copy)
    for path in (copy / "server.py", copy / "game.py"):
        text = path.read_text(encoding="utf-8")
        if old in text:
            assert text.count(old) == 1, f"{old!r} is in {path} more than once"
            path.write_text(text.replace(old, new), encoding="utf-8")
            return copy
    raise AssertionError(f"{old!r} is in neither file of {stage}")

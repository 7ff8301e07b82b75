"""The lessons' answers to their exercises, applied to a copy of a stage, as a student would.

An answer that changes code shows the change as a diff on a lesson page (any of
README.md and docs/**/*.md), inside its teacher block, after a marker that names it:

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
import re
import shutil
from pathlib import Path

from pages import ROOT, markdown_pages, read
from pages import name as page_name

# The marker, then the diff's fence; both indented alike inside a list item.
MARKER = re.compile(r"^( *)<!-- answer ([\w-]+) -->\n+ *```diff\n(.*?)\n *```", re.S | re.M)


def answers():
    """Every answer's diff on every page, by name, without the list item's indent."""
    found, where = {}, {}
    for page in markdown_pages():
        for indent, answer, diff in MARKER.findall(read(page)):
            assert answer not in found, f"answer {answer} is on both {where[answer]} and {page_name(page)}"
            found[answer] = "\n".join(line[len(indent):] for line in diff.splitlines())
            where[answer] = page_name(page)
    return found


def hunks(diff):
    """(file, old text, new text) for each hunk of a unified diff."""
    found, name, old, new = [], None, None, None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            name = line[4:].strip()
        elif line.startswith("--- "):
            continue
        elif line.startswith("@@"):
            old, new = [], []
            found.append((name, old, new))
        elif line[:1] in (" ", "-", "+") or line == "":
            text = line[1:]
            if line[:1] != "+":
                old.append(text)
            if line[:1] != "-":
                new.append(text)
    return [(name, "\n".join(old) + "\n", "\n".join(new) + "\n") for name, old, new in found]


def apply(name, where):
    """Apply the answer `name` to copies of the stages it changes, under `where`;
    return the copy of the (last) stage folder it changed. Copies made before,
    by an earlier apply() into the same `where`, are changed further."""
    stage = None
    for file, old, new in hunks(answers()[name]):
        stage = Path(where) / Path(file).parent
        if not stage.exists():
            shutil.copytree(ROOT / Path(file).parent, stage)
        path = stage / Path(file).name
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"answer {name}: this part of the diff is not in {file} once:\n{old}"
        path.write_text(text.replace(old, new), encoding="utf-8")
    return stage


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

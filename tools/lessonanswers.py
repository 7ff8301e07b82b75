"""The lessons' answers that change code: read from the pages, and applied to a copy of a stage.

An answer shows its change as a diff on a lesson page (any of README.md and docs/**/*.md),
inside its teacher block, after a marker that names it:

    <!-- answer stage2-2 -->
    ```diff
    --- stage2_queue/server.py
    +++ stage2_queue/server.py
    @@ GameServer.player_left @@
    -            self.waiting_game = None  # so nobody is ever paired with a player who has gone
    +            pass
    ```

A hunk needs no line numbers (the text between the @@ marks only says where it
is, for a reader): its context and removed lines must appear exactly once in
the file, and are replaced by its context and added lines. So a diff that no
longer fits the stage cannot be applied, and no page can drift from the code.
Answers named `tag-1`, `tag-2`, ... are the steps of the capstone (lesson 10),
each applied to the copy the earlier ones changed. Used by tests/answers.py and
by `kit.py tag DIR`; only Python's standard library.
"""
import re
import shutil
from pathlib import Path

from handouts import ROOT, markdown_pages

# The marker, then the diff's fence; both indented alike inside a list item.
MARKER = re.compile(r"^( *)<!-- answer ([\w-]+) -->\n+ *```diff\n(.*?)\n *```", re.S | re.M)
CAPSTONE = re.compile(r"tag-(\d+)")  # the capstone's steps


class AnswerError(Exception):
    """A page's answer that cannot be read or applied: said in one line."""


def page_name(page):
    return page.relative_to(ROOT).as_posix()


def answers():
    """Every answer's diff on every page, by name, without the list item's indent."""
    found, where = {}, {}
    for page in markdown_pages():
        for indent, answer, diff in MARKER.findall(page.read_text(encoding="utf-8")):
            if answer in found:
                raise AnswerError(f"answer {answer} is on both {where[answer]} and {page_name(page)}")
            found[answer] = "\n".join(line[len(indent):] for line in diff.splitlines())
            where[answer] = page_name(page)
    return found


def capstone_steps(found=None):
    """The capstone's answers, tag-1, tag-2, ..., in the order they are applied."""
    steps = [name for name in (found or answers()) if CAPSTONE.fullmatch(name)]
    return sorted(steps, key=lambda name: int(CAPSTONE.fullmatch(name)[1]))


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


def apply(name, where, found=None):
    """Apply the answer `name` to copies of the stages it changes, under `where`;
    return the copy of the (last) stage folder it changed. Copies made before,
    by an earlier apply() into the same `where`, are changed further."""
    found = found or answers()
    if name not in found:
        raise AnswerError(f"no page has the answer {name}")
    stage = None
    for file, old, new in hunks(found[name]):
        stage = Path(where) / Path(file).parent
        if not stage.exists():
            shutil.copytree(ROOT / Path(file).parent, stage)
        path = stage / Path(file).name
        text = path.read_text(encoding="utf-8")
        if text.count(old) != 1:
            raise AnswerError(f"answer {name}: this part of the diff is in {file} {text.count(old)} times, "
                              f"not once:\n{old}")
        path.write_text(text.replace(old, new), encoding="utf-8")
    return stage

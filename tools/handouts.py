"""The student handouts: docs/handouts/<name>.md from each docs/lessons/<name>.md.

    python tools/handouts.py           (or: make handouts) rewrites every handout
    python tools/handouts.py --check   exits 1, naming each handout that is stale

A handout is its lesson page without what only the teacher sees: every block
between a `<!-- teacher -->` line and a `<!-- /teacher -->` line (answers, the
plan's timings) goes, and so does the Plan heading. It is for printing as it
is, so a page's comment lines go too, and a wire diagram (Mermaid, which only
a Markdown viewer draws) becomes the same messages written out, one a line. Its links are rewritten to
work from docs/handouts/ (a link to another lesson goes to that lesson's
handout), and a header line gives its reading time at 200 words a minute.
Never edit a handout: edit its lesson and run this again. tests/test_docs.py
checks that every handout is what this makes now, and that no answer leaks.
Only Python's standard library is used.
"""
import math
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
LESSONS = DOCS / "lessons"
HANDOUTS = DOCS / "handouts"
WORDS_PER_MINUTE = 200
# A teacher block: its two marker lines and all between them (indented alike inside a list item).
TEACHER_BLOCK = re.compile(r"^ *<!-- teacher -->\n.*?^ *<!-- /teacher -->\n", re.S | re.M)
MARKERS = re.compile(r"<!-- /?teacher -->")
PLAN_HEADING = re.compile(r"^## Plan\n+", re.M)
COMMENT_LINE = re.compile(r"^ *<!--.*?-->\n", re.M)  # a marker for the tools, not for a reader
SEQUENCE = re.compile(r"^```mermaid\nsequenceDiagram\n(?P<body>.*?)^```\n", re.S | re.M)
PARTICIPANT = re.compile(r"^\s*participant (\w+) as (.+)$")
ARROW = re.compile(r"^\s*(\w+)(-+>>|-+x|-+>)(\w+): (.+)$")
NOTE = re.compile(r"^\s*Note over [\w,]+: (.+)$")
# An inline link or picture, [text](target) or ![alt](target); the target has no spaces.
LINK = re.compile(r"(?P<head>!?\[[^\]]*\]\()(?P<target>[^)\s]+)\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # https:, mailto: ...


def markdown_pages():
    """Every Markdown page of the kit: README.md, then docs/**/*.md in order."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def teacher_blocks(text):
    """The teacher blocks of a page, each with its marker lines; checks they pair up."""
    blocks = TEACHER_BLOCK.findall(text)
    markers = len(MARKERS.findall(text))
    if markers != 2 * len(blocks):
        raise ValueError(f"{markers} teacher markers but {len(blocks)} whole blocks: each "
                         "<!-- teacher --> line needs a <!-- /teacher --> line after it")
    return blocks


def student_text(text):
    """A page without its teacher blocks and without the Plan heading."""
    teacher_blocks(text)
    text = PLAN_HEADING.sub("", TEACHER_BLOCK.sub("", text))
    return re.sub(r"\n{3,}", "\n\n", text)  # no gap left where a block was


def sequence_as_text(diagram):
    """A Mermaid sequence diagram's messages, written out for paper."""
    names, lines = {}, []
    for line in diagram["body"].splitlines():
        if PARTICIPANT.match(line):
            short, name = PARTICIPANT.match(line).groups()
            names[short] = name
        elif NOTE.match(line):
            lines.append(f"({NOTE.match(line)[1]})")
        elif ARROW.match(line):
            sender, arrow, receiver, what = ARROW.match(line).groups()
            sign = "-x" if arrow.endswith("x") else "->"
            lines.append(f"    {names.get(sender, sender)} {sign} {names.get(receiver, receiver)}: {what}")
    return "```text\n" + "\n".join(lines) + "\n```\n"


def printable(text):
    """A page as paper shows it: no comment lines, and diagrams written out."""
    return SEQUENCE.sub(sequence_as_text, COMMENT_LINE.sub("", text))


def handout_link(target):
    """A link written on a lesson page, as it must be written on its handout."""
    if EXTERNAL.match(target) or target.startswith("#"):
        return target
    path, hash_, anchor = target.partition("#")
    where = (LESSONS / path).resolve()
    if where.parent == LESSONS.resolve() and where.suffix == ".md":
        where = HANDOUTS / where.name  # a lesson's handout, for a student
    return Path(os.path.relpath(where, HANDOUTS)).as_posix() + hash_ + anchor


def reading_minutes(text):
    return max(1, math.ceil(len(text.split()) / WORDS_PER_MINUTE))


def handout(lesson):
    """The handout of a lesson page (a Path under docs/lessons/), as text."""
    body = printable(student_text(lesson.read_text(encoding="utf-8")))
    body = LINK.sub(lambda link: link["head"] + handout_link(link["target"]) + ")", body)
    title = body.split("\n", 1)[0].lstrip("# ").strip()
    source = lesson.relative_to(ROOT).as_posix()
    header = (f"*{title}: Student handout, about {reading_minutes(body)} min to read "
              f"(generated from {source} by tools/handouts.py: do not edit)*")
    return f"{header}\n\n{body}"


def lessons():
    """The lesson pages in the course's order, by number: lesson 10 after lesson 9."""
    return sorted(LESSONS.glob("lesson-*.md"), key=lambda page: int(re.match(r"lesson-(\d+)", page.name)[1]))


def main(args):
    check = args == ["--check"]
    if args and not check:
        print("Usage: python tools/handouts.py [--check]", file=sys.stderr)
        return 2
    stale = []
    made = {HANDOUTS / lesson.name: handout(lesson) for lesson in lessons()}
    for path, text in made.items():
        name = path.relative_to(ROOT).as_posix()
        minutes = reading_minutes(text.split("\n\n", 1)[1])
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            stale.append(name)
            if not check:
                HANDOUTS.mkdir(exist_ok=True)
                path.write_text(text, encoding="utf-8")
        print(f"{name}: about {minutes} min to read{' (stale)' if check and old != text else ''}")
    orphans = sorted(p.relative_to(ROOT).as_posix() for p in HANDOUTS.glob("*.md") if p not in made)
    for name in orphans:
        print(f"{name}: no lesson page makes it{': removed' if not check else ''}")
        if not check:
            (ROOT / name).unlink()
    if check and (stale or orphans):
        print(f"Stale handouts: {', '.join(stale + orphans)}. Make them again with: python tools/handouts.py",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The student worksheets: docs/handouts/<name>.md from docs/worksheets/<name>.md and
docs/lessons/<name>.md.

    python tools/handouts.py           rewrites every worksheet's Markdown
    python tools/handouts.py --check   exits 1, naming each worksheet (or its PDF) that is stale
    make handouts                      the Markdown, then the .html and .pdf of each stale one
                                       (tools/print_handouts.py, with requirements-handouts.txt)

A worksheet has a source of its own, written for students: docs/worksheets/<name>.md,
one for each lesson page of the same name. The lesson's exercises and exit questions are
written once, on the lesson page; the source says where they go with a line of its own,
`<!-- exercises -->` or `<!-- exit questions -->`, and this tool puts them there without
their teacher blocks (the answers), each followed by a box to write in: a short one under
an exercise with a `**Test:**` line, a step whose answer is code written in files (lesson
10's), where the box holds only a note of what the student saw. A line
`<!-- diagram -->` puts the lesson's wire diagram there, written out one message a line.
A link to a lesson page becomes a link to its worksheet. Only Python's standard library
is used here, so the tests can run it: tests/test_docs.py checks that every worksheet is
what this makes now, and tests/test_handouts.py that each PDF was printed from it.
"""
import hashlib
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


WORKSHEETS = DOCS / "worksheets"
PLACE = re.compile(r"^<!-- (exercises|exit questions|diagram) -->\n", re.M)
BOX = '<div class="box"></div>'
SHORT_BOX = '<div class="box short"></div>'  # under a step whose answer is code, in files
BUILD_STEP = re.compile(r"^\*\*Test:\*\*", re.M)  # such a step says what the student should now see
QUESTION = re.compile(r"^(\d+\. .*(?:\n(?!\d+\. ).*)*)", re.M)
# What a printed worksheet depends on besides its Markdown: the print stylesheet.
STYLESHEET = Path(__file__).resolve().parent / "handout.css"
RECORD = "{name}.print.txt"  # beside each PDF: the hash it was printed from, its pages, its reading grade


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


def section(text, heading):
    """The body of a page's `## heading`, up to the next `## ` heading (none inside code)."""
    found = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if not found:
        raise ValueError(f"no '## {heading}' section")
    return found[1].strip("\n")


def box_for(exercise):
    """The box under an exercise: a short one if its answer is code the student writes."""
    return SHORT_BOX if BUILD_STEP.search(exercise) else BOX


def with_boxes(exercises):
    """A lesson's Exercises (no teacher blocks), a box after each exercise."""
    parts = re.split(r"(?=^### )", exercises.strip("\n"), flags=re.M)
    return "\n\n".join(f"{part.strip()}\n\n{box_for(part)}" for part in parts if part.strip())


def questions_with_boxes(questions):
    """A lesson's Exit questions, each list item followed by a box inside it."""
    items = [item.rstrip() for item in QUESTION.findall(questions.strip("\n"))]
    return "\n\n".join(f"{item}\n\n   {BOX}" for item in items)


def diagram_text(page):
    found = SEQUENCE.search(page)
    return sequence_as_text(found) if found else ""


def handout(lesson):
    """The worksheet of a lesson page (a Path under docs/lessons/), as Markdown."""
    source = WORKSHEETS / lesson.name
    if not source.exists():
        raise ValueError(f"{lesson.name} has no worksheet source: write {source.relative_to(ROOT).as_posix()}")
    page = student_text(lesson.read_text(encoding="utf-8"))
    fill = {"exercises": lambda: "## Exercises\n\n" + with_boxes(section(page, "Exercises")),
            "exit questions": lambda: "## Exit questions\n\n" + questions_with_boxes(section(page, "Exit questions")),
            "diagram": lambda: diagram_text(page)}
    text = PLACE.sub(lambda place: fill[place[1]]() + "\n", source.read_text(encoding="utf-8"))
    text = LINK.sub(lambda link: link["head"] + handout_link(link["target"]) + ")", text)
    return re.sub(r"\n{3,}", "\n\n", COMMENT_LINE.sub("", text)).strip("\n") + "\n"


def lessons():
    """Every lesson page, by its number: lesson 10 comes after lesson 9."""
    return sorted(LESSONS.glob("lesson-*.md"), key=lambda page: int(re.match(r"lesson-(\d+)", page.name)[1]))


def source_hash(markdown):
    """What a printed worksheet was made from: its Markdown and the print stylesheet."""
    digest = hashlib.sha256(markdown.encode("utf-8"))
    digest.update(STYLESHEET.read_bytes())
    return digest.hexdigest()


def print_record(name):
    """{'sha256': ..., 'pages': ..., 'grade': ...} as recorded beside a worksheet's PDF, or {}."""
    path = HANDOUTS / RECORD.format(name=name)
    if not path.exists():
        return {}
    return dict(line.split(": ", 1) for line in path.read_text(encoding="utf-8").splitlines() if ": " in line)


def main(args):
    check = args == ["--check"]
    if args and not check:
        print("Usage: python tools/handouts.py [--check]", file=sys.stderr)
        return 2
    stale, unprinted = [], []
    made = {HANDOUTS / lesson.name: handout(lesson) for lesson in lessons()}
    for path, text in made.items():
        name = path.relative_to(ROOT).as_posix()
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            stale.append(name)
            if not check:
                HANDOUTS.mkdir(exist_ok=True)
                path.write_text(text, encoding="utf-8")
        printed = print_record(path.stem).get("sha256") == source_hash(text)
        if not printed:
            unprinted.append(name[:-3] + ".pdf")
        print(f"{name}: about {reading_minutes(text)} min to read"
              f"{' (stale)' if check and old != text else ''}{'' if printed else '; its PDF is stale'}")
    orphans = sorted(p.relative_to(ROOT).as_posix() for p in HANDOUTS.glob("*.md") if p not in made)
    for name in orphans:
        print(f"{name}: no lesson page makes it{': removed' if not check else ''}")
        if not check:
            (ROOT / name).unlink()
    if check and (stale or orphans or unprinted):
        print(f"Stale handouts: {', '.join(stale + orphans + unprinted)}. Make them again with: make handouts",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

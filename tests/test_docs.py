"""The course pages hold together: every link and #anchor inside the repo resolves, every
lesson page has the course's headings in order, and every handout (a worksheet) is what
tools/handouts.py makes now from its source and its lesson page, with every exercise and exit
question and no teacher text. (The printed worksheets have their own tests: test_handouts.py.) (The code excerpts,
captions, diagrams and answers on the same pages have their own tests: test_layout.py,
test_readme_captions.py, test_diagrams.py, test_exercises.py.) No game runs here."""
import re
import shutil
import subprocess
import sys

import pytest

from pages import (DOCS, EXTERNAL, HANDOUTS, LESSONS, LINK, ROOT, WORKSHEETS, handout, lessons, markdown_pages, name,
                   read, student_text, teacher_blocks)

README_LINES = 200
HEADINGS = ["Objectives", "Plan", "What to type", "What to observe", "Common mistakes",
            "Support and extension", "Exercises", "Exit questions"]
FENCE = re.compile(r"^ *```.*?^ *```", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LESSON = re.compile(r"lesson-(\d+)-[a-z-]+\.md")


def prose(text):
    """A page without its code: no fenced block and no inline code holds a link or heading."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def headings(text, level):
    return re.findall(rf"^{'#' * level} (.+)$", FENCE.sub("", text), re.M)


def anchor(heading):
    """GitHub's anchor for a heading: its text lower-case, punctuation dropped, spaces to -."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts as its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(page):
    """Every anchor a page has; a repeated heading gets -1, -2, ... as on GitHub."""
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", read(page)), re.M):
        base, n = anchor(heading), 0
        while (a := base if n == 0 else f"{base}-{n}") in found:
            n += 1
        found.add(a)
    return found


def sections(text, level=2):
    """{heading: its text up to the next heading of that level or higher}; a line in a code
    block that starts with # is no heading."""
    found, body, fenced = {}, None, False
    for line in text.split("\n"):
        fenced ^= line.lstrip().startswith("```")
        heading = not fenced and re.match(rf"(#{{1,{level}}}) (.+)$", line)
        if heading:
            found[heading[2]] = body = []
        elif body is not None:
            body.append(line)
    return {head: "\n".join(lines) for head, lines in found.items()}


PAGES = markdown_pages()
LESSON_PAGES = lessons()


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_link_inside_the_repo_and_every_anchor_resolves(page):
    broken = []
    for link in LINK.finditer(prose(read(page))):
        target = link["target"]
        if EXTERNAL.match(target):
            continue  # outside sites are not checked: this machine has no internet
        path, _, fragment = target.partition("#")
        where = (page.parent / path).resolve() if path else page
        if not where.exists() or ROOT.resolve() not in (where, *where.parents):
            broken.append(f"{target}: no such file in the repo")
        elif fragment and (where.suffix != ".md" or fragment not in anchors(where)):
            broken.append(f"{target}: {name(where)} has no heading with that anchor")
    assert not broken, f"{name(page)}:\n" + "\n".join(broken)


def test_readme_is_a_short_front_page_that_links_every_lesson():
    readme = read(ROOT / "README.md")
    assert readme.count("\n") <= README_LINES
    for lesson in LESSON_PAGES:
        assert f"({name(lesson)})" in readme, f"README.md's unit at a glance does not link {name(lesson)}"


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_no_answer_is_folded_in_details(page):
    assert "<details" not in read(page), f"{name(page)}: <details> folds only on GitHub: use a teacher block"


def test_there_is_a_lesson_0_and_they_are_numbered_in_order():
    numbers = [int(LESSON.fullmatch(lesson.name)[1]) for lesson in LESSON_PAGES]
    assert numbers == list(range(len(numbers))) and numbers, [lesson.name for lesson in LESSON_PAGES]


@pytest.mark.parametrize("lesson", LESSON_PAGES, ids=name)
def test_a_lesson_page_has_the_courses_headings_in_order(lesson):
    text = read(lesson)
    number = int(LESSON.fullmatch(lesson.name)[1])
    assert re.match(rf"# Lesson {number}: \S", text), f"{name(lesson)} must open with '# Lesson {number}: <title>'"
    assert headings(text, 1) == [text.split("\n", 1)[0][2:]]
    assert headings(text, 2) == HEADINGS
    opening = text.split("\n## ", 1)[0].split("\n", 1)[1].strip()
    assert opening.count("\n") <= 2 and "50 minutes" in opening, \
        f"{name(lesson)}: under the title, one or two lines: the stage folder, the one idea, 50 minutes"
    body = sections(text)
    assert re.fullmatch(r"\s*<!-- teacher -->\n.*<!-- /teacher -->\s*", body["Plan"], re.S) and \
        len(teacher_blocks(body["Plan"])) == 1, "the Plan's body is one teacher block"
    assert re.search(r"^By the end, students can", body["Objectives"], re.M)
    exercises = headings(body["Exercises"], 3)
    assert exercises and all(re.fullmatch(rf"Exercise {n}: \S.*", heading) for n, heading in
                             enumerate(exercises, 1)), exercises
    for exercise, answer in answered(body["Exercises"], r"^### .*$"):
        assert answer, f"{name(lesson)}: '{exercise}' has no teacher block with an **Answer.**"
    questions = answered(body["Exit questions"], r"^\d+\. .*$")
    assert 2 <= len(questions) <= 4, f"{name(lesson)}: {len(questions)} exit questions"
    for question, answer in questions:
        assert answer, f"{name(lesson)}: exit question '{question}' has no teacher block with an **Answer.**"


def answered(text, item):
    """[(an item's first line, whether a teacher block with an **Answer.** follows it)]."""
    parts = re.split(f"({item})", text, flags=re.M)
    return [(head.strip(), any("**Answer.**" in block for block in teacher_blocks(body)))
            for head, body in zip(parts[1::2], parts[2::2])]


@pytest.mark.parametrize("lesson", LESSON_PAGES, ids=name)
def test_a_handout_is_what_the_tool_makes_from_its_lesson_now(lesson):
    made = HANDOUTS / lesson.name
    assert made.exists() and read(made) == handout(lesson), \
        f"{name(made)} is stale: run make handouts"


def handouts_tool(folder, *args):
    return subprocess.run([sys.executable, "tools/handouts.py", *args], cwd=folder, capture_output=True,
                          text=True)


def test_every_handout_has_its_lesson_and_the_check_says_so():
    assert sorted(p.name for p in HANDOUTS.glob("*.md")) == sorted(lesson.name for lesson in LESSON_PAGES)
    check = handouts_tool(ROOT, "--check")
    assert check.returncode == 0 and check.stderr == "", check.stderr
    assert check.stdout.count("min to read") == len(LESSON_PAGES)


def copy_what_makes_handouts(into):
    """The handout tool, the lesson pages, the worksheets' sources and the handouts, copied."""
    shutil.copytree(ROOT / "tools", into / "tools")
    for folder in (LESSONS, HANDOUTS, WORKSHEETS):
        shutil.copytree(folder, into / "docs" / folder.name)


def test_the_check_names_a_stale_handout_and_the_tool_makes_it_again(tmp_path):
    copy_what_makes_handouts(tmp_path)
    stale = tmp_path / "docs" / "handouts" / LESSON_PAGES[-1].name
    stale.write_text(read(stale) + "An answer a student added by hand.\n", encoding="utf-8")
    check = handouts_tool(tmp_path, "--check")
    assert check.returncode == 1 and check.stderr == (
        f"Stale handouts: docs/handouts/{stale.name}. Make them again with: make handouts\n")
    assert handouts_tool(tmp_path).returncode == 0 and read(stale) == read(HANDOUTS / stale.name)
    assert handouts_tool(tmp_path, "--check").returncode == 0


def test_a_lesson_with_a_teacher_block_left_open_makes_no_handout(tmp_path):
    copy_what_makes_handouts(tmp_path)
    lesson = tmp_path / "docs" / "lessons" / LESSON_PAGES[-1].name
    answer = "The answer only a teacher may read."
    lesson.write_text(read(lesson) + f"\n<!-- teacher -->\n{answer}\n", encoding="utf-8")  # never closed
    made = handouts_tool(tmp_path)  # as make handouts runs it
    assert made.returncode != 0
    assert "each <!-- teacher --> line needs a <!-- /teacher --> line after it" in made.stderr
    assert answer not in read(tmp_path / "docs" / "handouts" / lesson.name)


def sentences(text):
    """A text's sentences of five words or more (those worth looking for elsewhere), each on
    one line, its Markdown marks dropped."""
    text = re.sub(r"<!--.*?-->|\*\*Answer\.\*\*|[*`>]", " ", text)
    return {" ".join(s.split()) for s in re.split(r"(?<=[.!?:])\s+|\n\s*\n", text) if len(s.split()) >= 5}


@pytest.mark.parametrize("lesson", LESSON_PAGES, ids=name)
def test_a_handout_keeps_every_exercise_and_exit_question_and_leaks_no_teacher_text(lesson):
    text, given = read(lesson), read(HANDOUTS / lesson.name)
    body = sections(text)
    for exercise in headings(body["Exercises"], 3):
        assert f"### {exercise}\n" in given, f"{lesson.name}'s handout has lost '{exercise}'"
    for question, _ in answered(body["Exit questions"], r"^\d+\. .*$"):
        assert question in given, f"{lesson.name}'s handout has lost the exit question '{question}'"
    for mark in ("<!-- teacher", "<!-- /teacher", "**Answer.**", "<!-- answer ", "## Plan\n"):
        assert mark not in given, f"{lesson.name}'s handout shows {mark!r}"
    student, flat = sentences(student_text(text)), " ".join(re.sub(r"[*`>]", " ", given).split())
    for block in teacher_blocks(text):  # a block too short for a sentence of its own: all of it
        distinctive = sentences(block) - student or {" ".join(re.sub(r"<!--.*?-->|[*`>]", " ", block).split())}
        leaked = [s for s in distinctive if s in flat]
        assert not leaked, f"{lesson.name}'s handout shows teacher text: {leaked}"


STUDENT_PAGES = [DOCS / "glossary.md"]  # besides the worksheets themselves


@pytest.mark.parametrize("lesson", LESSON_PAGES, ids=name)
def test_a_handout_is_a_worksheet_that_links_only_to_student_pages(lesson):
    given = handout(lesson)
    assert given.startswith(headings(read(lesson), 1)[0].split(":")[0] + ":", 2), given[:80]
    for aside in ("do not edit", "With `make`", "make demo", "make diff", "tools/handouts.py"):
        assert aside not in given, f"{lesson.name}'s worksheet says {aside!r}"
    for link in LINK.finditer(prose(given)):  # whether each resolves, the link test checks
        target = link["target"].partition("#")[0]
        assert not EXTERNAL.match(target), f"{lesson.name}: a worksheet on paper cannot follow {link[0]}"
        where = (HANDOUTS / target).resolve()
        assert where.parent == HANDOUTS.resolve() or where in STUDENT_PAGES, \
            f"{lesson.name}'s worksheet sends a student to a teacher's page: {link[0]}"


def test_every_page_a_program_names_exists_and_a_student_is_sent_to_a_handout():
    # A stage file, a tool or a line a program prints may name a page; students read the
    # stage files, so those send them to handouts, never to the teacher's lesson pages.
    named = re.compile(r"docs/[\w./-]+\.md")
    for path in sorted([*ROOT.glob("stage*_*/*.py"), *ROOT.glob("tools/*.py")]):
        for page in named.findall(path.read_text(encoding="utf-8")):
            assert (ROOT / page).is_file(), f"{name(path)} names {page}, which does not exist"
            if path.parent.name.startswith("stage"):
                assert not page.startswith("docs/lessons/"), f"{name(path)} sends a student to {page}"


@pytest.mark.parametrize("lesson", LESSON_PAGES, ids=name)
def test_a_handout_prints_as_it_is_with_its_diagram_written_out(lesson):
    text, page = read(HANDOUTS / lesson.name), read(lesson)
    assert "<!--" not in text and "```mermaid" not in text, f"{name(lesson)}'s handout needs a Markdown viewer"
    if "<!-- diagram -->" in read(WORKSHEETS / lesson.name):
        for arrow in re.findall(r"^    \w+-+>>\w+: (.+)$", page, re.M):  # every message of its diagram
            assert arrow in text, f"{name(lesson)}'s handout leaves out a message of its diagram: {arrow}"

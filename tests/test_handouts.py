"""The printed worksheets (docs/handouts/<lesson>.md, .html, .pdf): each has a step-by-step
part with a "Test:" line after every step, a box to write in under every exercise and exit
question (which come from the lesson page, written once), and a PDF of at most two pages that
was printed from the worksheet as it is now and shows no answer. No Chromium is needed: the
PDFs are read with pypdf, and whether each is current is told by the hash recorded beside it
(tools/print_handouts.py writes it; Chromium's PDFs differ byte for byte each time). Every
lesson found is checked, by its number, so a new lesson's worksheet is too."""
import re

import pytest
from pypdf import PdfReader

from pages import HANDOUTS, WORKSHEETS, handout, lessons, name, read, student_text, teacher_blocks
from handouts import BOX, SHORT_BOX, box_for, print_record, section, source_hash

LESSON_PAGES = lessons()
MAX_PAGES = 2
GRADE_AIM = 8.0  # the reading grade aimed at for the GCSE lessons, 0 to 4
GCSE_LESSONS = range(0, 5)
EXIT_QUESTION = re.compile(r"^\d+\. (.*(?:\n(?!\d+\. ).*)*)", re.M)


def number(lesson):
    return int(re.match(r"lesson-(\d+)", lesson.name)[1])


def flat(text):
    """Text as a PDF's words compare: Markdown marks and line breaks dropped."""
    text = re.sub(r"<!--.*?-->|\*\*Answer\.\*\*|[*`>#]", " ", text)
    return " ".join(text.replace("\u2011", "-").split())


def pdf_text(lesson):
    return flat(" ".join(page.extract_text() for page in PdfReader(HANDOUTS / f"{lesson.stem}.pdf").pages))


def exit_questions(lesson):
    return [" ".join(q.split()) for q in EXIT_QUESTION.findall(section(student_text(read(lesson)), "Exit questions"))]


@pytest.mark.parametrize("lesson", LESSON_PAGES, ids=name)
def test_every_lesson_has_a_worksheet_source_written_for_students(lesson):
    source = WORKSHEETS / lesson.name
    assert source.exists(), f"{name(lesson)} has no worksheet source: write {name(source)}"
    text = read(source)
    for place in ("<!-- exercises -->", "<!-- exit questions -->"):
        assert text.count(place) == 1, f"{name(source)}: the line {place} once, where the lesson's part goes"
    assert "### Exercise" not in text, f"{name(source)}: exercises are written once, on {name(lesson)}"


@pytest.mark.parametrize("lesson", LESSON_PAGES, ids=name)
def test_each_step_ends_with_a_test_line(lesson):
    steps = section(read(HANDOUTS / lesson.name), "Steps")
    items = re.split(r"^\d+\. ", steps, flags=re.M)[1:]
    assert items, f"{lesson.name}: its worksheet has no numbered steps"
    for n, item in enumerate(items, 1):
        assert re.search(r"^ *Test: \S", item, re.M), f"{lesson.name}: step {n} has no 'Test:' line"


@pytest.mark.parametrize("lesson", LESSON_PAGES, ids=name)
def test_the_exercises_and_exit_questions_are_the_lesson_pages_with_a_box_under_each(lesson):
    given, page = read(HANDOUTS / lesson.name), student_text(read(lesson))
    exercises = re.split(r"(?=^### )", section(page, "Exercises"), flags=re.M)
    for exercise in filter(str.strip, exercises):  # word for word, as the lesson page has it
        assert exercise.strip() + f"\n\n{box_for(exercise)}" in given, f"{lesson.name}: '{exercise.splitlines()[0]}' drifted"
    for question in EXIT_QUESTION.findall(section(page, "Exit questions")):
        assert question.rstrip() + f"\n\n   {BOX}" in given, f"{lesson.name}: exit question '{question[:40]}' drifted"
    assert given.count(BOX) + given.count(SHORT_BOX) == len(exercises) - (not exercises[0].strip()) + len(exit_questions(lesson))


@pytest.mark.parametrize("lesson", LESSON_PAGES, ids=name)
def test_at_least_half_the_exit_questions_ask_why(lesson):
    # A question that asks why wants reasoning; the worksheet prints none of their answers
    # (the next test checks the PDF).
    questions = exit_questions(lesson)
    asking = [q for q in questions if re.search(r"\bwhy\b", q, re.I)]
    assert 2 * len(asking) >= len(questions), f"{lesson.name}: only {len(asking)} of {len(questions)} ask why"


@pytest.mark.parametrize("lesson", LESSON_PAGES, ids=name)
def test_the_pdf_is_printed_from_the_worksheet_as_it_is_now(lesson):
    record, markdown = print_record(lesson.stem), handout(lesson)
    pdf, html = HANDOUTS / f"{lesson.stem}.pdf", HANDOUTS / f"{lesson.stem}.html"
    assert pdf.exists() and html.exists(), f"{name(pdf)} is missing: run make handouts"
    assert record.get("sha256") == source_hash(markdown), f"{name(pdf)} is stale: run make handouts"
    assert f'<meta name="source-sha256" content="{source_hash(markdown)}">' in read(html), f"{name(html)} is stale"
    pages = len(PdfReader(pdf).pages)
    assert pages <= MAX_PAGES and int(record["pages"]) == pages, f"{name(pdf)}: {pages} pages on US Letter"


@pytest.mark.parametrize("lesson", LESSON_PAGES, ids=name)
def test_the_pdf_has_every_exercise_and_shows_no_answer(lesson):
    text, page = pdf_text(lesson), read(lesson)
    for exercise in re.findall(r"^### (Exercise \d+: .+)$", section(page, "Exercises"), re.M):
        assert flat(exercise) in text, f"{lesson.stem}.pdf has lost '{exercise}'"
    for block in teacher_blocks(section(page, "Exercises") + "\n" + section(page, "Exit questions") + "\n"):
        answer = flat(block)
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", answer) if len(s.split()) >= 6]
        leaked = [s for s in sentences if s in text]
        assert not leaked, f"{lesson.stem}.pdf prints an answer: {leaked}"
    assert "Answer." not in text, f"{lesson.stem}.pdf prints an answer's mark"


@pytest.mark.parametrize("lesson", [lesson for lesson in LESSON_PAGES if number(lesson) in GCSE_LESSONS], ids=name)
def test_a_gcse_worksheet_reads_at_grade_8_or_lower(lesson):
    grade = float(print_record(lesson.stem)["grade"])  # measured by make handouts, with textstat
    assert grade <= GRADE_AIM, f"{lesson.stem}: reading grade {grade}"


GLOSSARY_WORDS = ["diff", "Pump", "tick", "0.0.0.0", "listening", ".venv", "JSON", "bot", "field",
                  "ConnectionListener", "B (bytes)", "firewall", "video driver", "queue", "send buffer"]


def test_the_glossary_has_the_words_a_student_meets():
    entries = re.findall(r"^- \*\*(.+?)\*\*", read(HANDOUTS.parent / "glossary.md"), re.M)
    missing = [w for w in GLOSSARY_WORDS if not any(w.lower() in entry.lower() for entry in entries)]
    assert not missing, f"docs/glossary.md has no entry for {missing}"


def test_queue_means_players_waiting_on_every_students_page():
    # The messages a program has yet to send are "the send buffer", never a queue.
    for lesson in LESSON_PAGES:
        for text in (read(HANDOUTS / lesson.name), student_text(read(lesson))):
            prose = re.sub(r"^ *```.*?^ *```", "", text, flags=re.S | re.M)
            assert not re.search(r"\bqueues? (a|the|its|every) (message|hello|echo)|queued messages", prose), \
                f"{lesson.name}: 'queue' for messages waiting to be sent; say 'the send buffer'"

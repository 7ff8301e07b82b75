"""The slide decks (docs/slides/<lesson>.pptx, made by make slides): each is read back with
python-pptx and must hold what tools/slides.py plans from its lesson page now: at least five
slides, every exercise's prompt and every exit question, and no answer. No office program
is needed here; make slides opens one deck with LibreOffice to check a real one can."""
import re

import pytest
from pptx import Presentation

from pages import lessons, name, read, teacher_blocks
from slides import SLIDES, plan

LESSON_PAGES = lessons()


def deck_text(lesson):
    """Each slide's text, its shapes' paragraphs joined by spaces."""
    deck = Presentation(str(SLIDES / f"{lesson.stem}.pptx"))
    return [" ".join(p.text for shape in slide.shapes if shape.has_text_frame for p in shape.text_frame.paragraphs)
            for slide in deck.slides]


@pytest.mark.parametrize("lesson", LESSON_PAGES, ids=name)
def test_a_deck_is_what_its_lesson_page_plans_now(lesson):
    assert (SLIDES / f"{lesson.stem}.pptx").exists(), f"no deck for {name(lesson)}: run make slides"
    slides, planned = deck_text(lesson), plan(lesson)
    assert len(slides) == len(planned) >= 5, f"{lesson.stem}.pptx: {len(slides)} slides"
    for text, wanted in zip(slides, planned):
        for part in [wanted["title"], *wanted["bullets"], *wanted["code"]]:
            assert part in text, f"{lesson.stem}.pptx is stale (run make slides): no {part[:60]!r}"
    titles = [s["title"] for s in planned]
    assert "What to observe" in titles and "Exit questions" in titles
    assert sum(t.startswith("Exercise ") for t in titles) == len(re.findall(r"^### Exercise", read(lesson), re.M))


@pytest.mark.parametrize("lesson", LESSON_PAGES, ids=name)
def test_a_deck_shows_no_answer(lesson):
    text = " ".join(deck_text(lesson))
    for block in teacher_blocks(read(lesson)):
        words = " ".join(re.sub(r"<!--.*?-->|\*\*|`|\[|\]\([^)]*\)", " ", block).split())
        for sentence in re.split(r"(?<=[.!?])\s+", words):
            if len(sentence.split()) >= 6 and "Answer." not in sentence:
                assert sentence not in text, f"{lesson.stem}.pptx shows teacher text: {sentence}"
    assert "Answer." not in text

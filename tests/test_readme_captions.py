"""The screenshot captions say what the pictures show: `make screenshots` writes the pictures,
docs/screenshots.json (each one's figures and caption) and the captions on every page that shows
a picture (README.md, docs/**/*.md) in one run, and these checks of the committed files fail if
they have drifted apart since. No game runs here."""
import difflib
import json

import pytest

from pages import DOCS, markdown_pages, name, read
from screenshots import FIGURES, caption, recaption


def pictures():
    return json.loads(FIGURES.read_text(encoding="utf-8"))


def captions():
    return {stage: picture["caption"] for stage, picture in pictures().items()}


def test_the_json_describes_the_pictures_in_docs_and_its_captions_its_figures():
    assert sorted(pictures()) == sorted(png.stem for png in DOCS.glob("*.png"))
    for stage, picture in pictures().items():
        assert picture["caption"] == caption(stage, picture["figures"]), stage


def test_every_picture_is_shown_on_some_page():
    shown = set().union(*(recaption(page, read(page), captions())[1] for page in markdown_pages()))
    assert shown == set(pictures()), f"no page shows these: {sorted(set(pictures()) - shown)}"


@pytest.mark.parametrize("page", markdown_pages(), ids=name)
def test_a_page_shows_each_picture_with_the_jsons_caption_as_alt_text_and_under_it(page):
    text = read(page)
    expected = recaption(page, text, captions())[0]
    changes = difflib.unified_diff(text.split("\n"), expected.split("\n"), name(page),
                                   f"as docs/{FIGURES.name} says (make screenshots)", n=0, lineterm="")
    assert text == expected, "\n".join(changes)

"""README's screenshot captions say what the pictures show: `make screenshots` writes the
pictures, docs/screenshots.json (each one's figures and caption) and the captions in
README.md in one run, and these checks of the committed files fail if they have drifted
apart since. No game runs here."""
import difflib
import json

from screenshots import DOCS, FIGURES, PAGES, README, caption, recaption


def pictures():
    return json.loads(FIGURES.read_text(encoding="utf-8"))


def test_the_json_describes_the_pictures_in_docs_and_its_captions_its_figures():
    assert sorted(pictures()) == sorted(png.stem for png in DOCS.glob("*.png"))
    for stage, picture in pictures().items():
        assert picture["caption"] == caption(stage, picture["figures"]), stage


def test_readme_shows_each_picture_with_the_jsons_caption_as_alt_text_and_under_it():
    readme, captions = README.read_text(encoding="utf-8"), {s: p["caption"] for s, p in pictures().items()}
    expected, captioned = recaption(readme, captions)
    assert captioned >= set(pictures()) - set(PAGES), "README.md shows no picture of these: " \
        f"{sorted(set(pictures()) - set(PAGES) - captioned)}"
    changes = difflib.unified_diff(readme.split("\n"), expected.split("\n"), "README.md",
                                   f"as docs/{FIGURES.name} says (make screenshots)", n=0, lineterm="")
    assert readme == expected, "\n".join(changes)


def test_a_page_of_docs_shows_its_picture_with_the_jsons_caption_too():
    for picture, page in PAGES.items():
        text = page.read_text(encoding="utf-8")
        expected, captioned = recaption(text, {picture: pictures()[picture]["caption"]}, folder="")
        assert captioned == {picture}, f"{page.name} shows no {picture}.png"
        assert text == expected, f"{page.name}: {picture}'s caption is not the one in docs/{FIGURES.name}"

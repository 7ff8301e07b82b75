"""The kit's Markdown pages (README.md and docs/**/*.md), for the tests and the test tools
that read or rewrite them. The page functions are tools/handouts.py's (standard library only),
so that the handout tool and the tests read a page the same way."""
import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent / "tools"))
from handouts import (DOCS, EXTERNAL, HANDOUTS, LESSONS, LINK, ROOT, WORKSHEETS, handout, lessons,  # noqa: E402,F401
                      markdown_pages, student_text, teacher_blocks)


def name(page):
    """A page's path in the repo, as a message names it."""
    return page.relative_to(ROOT).as_posix()


def read(page):
    return page.read_text(encoding="utf-8")

"""Print the worksheets: docs/handouts/<name>.html and .pdf from docs/handouts/<name>.md.

    make handouts                                    installs requirements-handouts.txt into
                                                     .venv, then runs both tools
    .venv/bin/python tools/print_handouts.py         prints each worksheet whose PDF is stale
    .venv/bin/python tools/print_handouts.py --all   prints every worksheet again

The Markdown is rendered with markdown-it-py; the HTML carries the print stylesheet
(tools/handout.css); headless Chromium (Debian's package `chromium`) prints it on US Letter
with IBM Plex Sans and Mono, the fonts requirements-handouts.txt installs, so that the pages
do not depend on what this machine has. Beside each PDF, <name>.print.txt records the hash of
what it was printed from (Chromium's PDFs differ byte for byte each time, so the tests compare
this hash, not the PDF), its pages and its reading grade (textstat's Flesch-Kincaid grade, on
the prose without code). A worksheet longer than two pages stops the run.
"""
import html
import importlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import textstat
from markdown_it import MarkdownIt
from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parent))
from handouts import HANDOUTS, RECORD, ROOT, STYLESHEET, handout, lessons, print_record, source_hash  # noqa: E402

MAX_PAGES = 2
FONTS = {"IBM Plex Sans": ("fontpkg_ibm_plex_sans", {"normal": "IBMPlexSans[wdth,wght].ttf",
                                                      "italic": "IBMPlexSans-Italic[wdth,wght].ttf"}),
         "IBM Plex Mono": ("fontpkg_ibm_plex_mono", {"normal": "IBMPlexMono-Regular.ttf",
                                                      "italic": "IBMPlexMono-Italic.ttf"})}
FENCE = re.compile(r"^ *```.*?^ *```\n?", re.S | re.M)


def font_faces():
    """@font-face rules for the installed fonts, by file URL (for printing only)."""
    rules = []
    for family, (package, files) in FONTS.items():
        folder = Path(importlib.import_module(package).__file__).parent / "files"
        for style, file in files.items():
            path = folder / file
            if not path.exists():
                raise SystemExit(f"{path} is missing: install requirements-handouts.txt (make handouts)")
            weight = "100 900" if "[" in file else "400"
            rules.append(f'@font-face {{ font-family: "{family}"; font-style: {style}; font-weight: {weight}; '
                         f'src: url("{path.as_uri()}"); }}')
            if "[" not in file:  # the mono's bold, for **`code`**
                bold = path.with_name(file.replace("Regular", "Bold").replace("Italic", "BoldItalic"))
                rules.append(f'@font-face {{ font-family: "{family}"; font-style: {style}; font-weight: 700; '
                             f'src: url("{bold.as_uri()}"); }}')
    return "\n".join(rules)


def render(markdown, digest, extra_head=""):
    """The worksheet as one HTML page with its print stylesheet inside."""
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    body = md.render(markdown)
    body = body.replace("<p>Test:", '<p class="test"><strong>Test:</strong>')
    # An exercise and its box stay on one page.
    body = re.sub(r'(<h3>.*?<div class="box[ \w]*"></div>)', r'<section class="keep">\1</section>', body, flags=re.S)
    title = markdown.split("\n", 1)[0].lstrip("# ").strip()
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="source-sha256" content="{digest}">\n<title>{html.escape(title)}</title>\n'
            f'{extra_head}<style>\n{STYLESHEET.read_text(encoding="utf-8")}</style>\n</head>\n<body>\n{body}</body>\n</html>\n')


def prose(markdown):
    """The words a student reads, without code, marks or boxes; each line a sentence."""
    text = FENCE.sub("", markdown)
    text = re.sub(r"`[^`\n]*`", "", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[#*_>|]", "", text)
    sentences = []
    for block in re.split(r"\n\s*\n", text):  # a paragraph's lines are one text; a list item starts anew
        for item in re.split(r"\n\s*(?:[-+]|\d+\.)\s+", "\n" + block):
            item = " ".join(item.split()).strip(" -")
            item = re.sub(r"^\d+\.\s*", "", item)
            if item:  # a heading or a list item with no full stop is still a sentence of its own
                sentences.append(item if item[-1] in ".?!:" else item + ".")
    return " ".join(sentences)


def grade(markdown):
    return textstat.flesch_kincaid_grade(prose(markdown))


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    raise SystemExit("No Chromium here. On Debian or Ubuntu: apt-get install chromium")


def print_pdf(markdown, digest, pdf):
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "worksheet.html"
        head = f'<base href="{HANDOUTS.as_uri()}/">\n<style>\n{font_faces()}\n</style>\n'
        page.write_text(render(markdown, digest, head), encoding="utf-8")
        made = Path(folder) / "worksheet.pdf"
        result = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                                 "--allow-file-access-from-files", "--no-pdf-header-footer",
                                 f"--user-data-dir={folder}/profile", f"--print-to-pdf={made}", page.as_uri()],
                                capture_output=True, text=True, timeout=120)
        if not made.exists():
            raise SystemExit(f"Chromium made no PDF of {pdf.name}:\n{result.stderr[-2000:]}")
        shutil.copyfile(made, pdf)


def main(args):
    if args not in ([], ["--all"]):
        print("Usage: python tools/print_handouts.py [--all]", file=sys.stderr)
        return 2
    too_long = []
    for lesson in lessons():
        markdown = handout(lesson)
        md_file = HANDOUTS / lesson.name
        if md_file.read_text(encoding="utf-8") != markdown:
            raise SystemExit(f"{md_file.relative_to(ROOT)} is stale: run python tools/handouts.py first")
        digest, name = source_hash(markdown), lesson.stem
        pdf = HANDOUTS / f"{name}.pdf"
        if args != ["--all"] and print_record(name).get("sha256") == digest and pdf.exists():
            record = print_record(name)
            print(f"{pdf.relative_to(ROOT)}: current, {record.get('pages')} pages, reading grade {record.get('grade')}")
            continue
        (HANDOUTS / f"{name}.html").write_text(render(markdown, digest), encoding="utf-8")
        print_pdf(markdown, digest, pdf)
        pages, level = len(PdfReader(pdf).pages), grade(markdown)
        (HANDOUTS / RECORD.format(name=name)).write_text(
            f"What {name}.pdf was printed from, by tools/print_handouts.py (tests/test_handouts.py reads this).\n"
            f"sha256: {digest}\npages: {pages}\ngrade: {level:.1f}\n"
            f"grade measured: Flesch-Kincaid, textstat {'.'.join(map(str, textstat.__version__))}, on the prose without code\n",
            encoding="utf-8")
        print(f"{pdf.relative_to(ROOT)}: printed, {pages} pages, reading grade {level:.1f}")
        if pages > MAX_PAGES:
            too_long.append(f"{pdf.name} ({pages} pages)")
    if too_long:
        print(f"Longer than {MAX_PAGES} pages on US Letter: {', '.join(too_long)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""An editable slide deck per lesson: docs/slides/<lesson>.pptx, from its lesson page.

    make slides                                   installs requirements-handouts.txt, then:
    .venv/bin/python tools/slides.py              every deck
    .venv/bin/python tools/slides.py --render     every deck, then lesson 1's opened by LibreOffice
                                                  headless and one slide saved as docs/slides/preview.png

A deck holds what the class sees, never what only the teacher sees: the title and the one
idea, the objectives, what to type, what to observe (with the stage's screenshot, and the
wire diagram written out), each exercise's prompt, and the exit questions. Teacher blocks
(answers, the plan) are left out. plan() says what each slide holds with the standard library
only, so tests/test_slides.py can read each deck back with python-pptx and compare.
"""
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from handouts import DOCS, LESSONS, ROOT, SEQUENCE, lessons, section, student_text  # noqa: E402

SLIDES = DOCS / "slides"
PREVIEW = SLIDES / "preview.png"
PREVIEW_LESSON, PREVIEW_SLIDE = "lesson-1-echo", 4
FENCE = re.compile(r"^ *```(\w*)\n(.*?)^ *```", re.S | re.M)
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")


def plain(text):
    """Markdown inline marks dropped: a link as its words, code and bold as their text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return " ".join(re.sub(r"\*\*|`", "", text).split())


def items(text):
    """A section's list items (or its paragraphs, when it has no list), each as plain text."""
    text = FENCE.sub("", text)
    found = re.findall(r"^[-*] (.*(?:\n(?![-*] |\n).*)*)", text, re.M)
    return [plain(item) for item in found] or [plain(p) for p in re.split(r"\n\s*\n", text) if p.strip()]


def commands(text):
    """The commands a student types (the macOS and Linux ones; Windows differs only in `py`)."""
    lines = []
    for language, body in FENCE.findall(text):
        if language in ("sh",):
            lines += [line.split("  #")[0].rstrip() for line in body.splitlines() if line.strip()]
    return lines


def diagram(page):
    found = SEQUENCE.search(page)
    if not found:
        return []
    names = dict(re.findall(r"participant (\w+) as (.+)", found["body"]))
    lines = []
    for line in found["body"].splitlines():
        note = re.match(r"\s*Note over [\w,]+: (.+)", line)
        arrow = re.match(r"\s*(\w+)(-+>>|-+x)(\w+): (.+)", line)
        if note:
            lines.append(f"({note[1]})")
        elif arrow:
            sign = "-x" if arrow[2].endswith("x") else "->"
            lines.append(f"  {names.get(arrow[1], arrow[1])} {sign} {names.get(arrow[3], arrow[3])}: {arrow[4]}")
    return lines


def plan(lesson):
    """[{'title', 'bullets', 'code', 'image'}] for a lesson page: what each slide shows."""
    page = student_text(lesson.read_text(encoding="utf-8"))
    title = page.split("\n", 1)[0].lstrip("# ").strip()
    opening = plain(page.split("\n## ", 1)[0].split("\n", 1)[1])
    slides = [{"title": title, "bullets": [opening], "code": [], "image": None}]
    objectives = [i for i in items(section(page, "Objectives"))]
    slides.append({"title": "By the end, you can", "bullets": objectives, "code": [], "image": None})
    typed = FENCE.sub("", section(page, "What to type")).strip()
    first = re.split(r"(?<=[.!?])\s+(?=[A-Z])", plain(re.split(r"\n\s*\n", typed)[0]))[0] if typed else ""
    lead = [first] if first and not first.startswith("On Windows") else []  # what to do before typing
    slides.append({"title": "What to type", "bullets": lead + ["On Windows, type py tools\\kit.py in place of "
                                                                "python3 tools/kit.py."],
                   "code": commands(section(page, "What to type")), "image": None})
    observe = section(page, "What to observe")
    image = IMAGE.search(observe)
    shown = [i for i in items(observe) if not i.startswith("On the wire") and not i.startswith("A real session")]
    shown = [re.split(r"(?<=[.!?])\s+(?=[A-Z])", i)[0] for i in shown if not IMAGE.search(i)]  # each one's first sentence
    slides.append({"title": "What to observe", "bullets": shown[:4], "code": [],
                   "image": (LESSONS / image[2]).resolve() if image else None})
    wire = diagram(lesson.read_text(encoding="utf-8"))
    if wire:
        slides.append({"title": "On the wire", "bullets": [], "code": wire, "image": None})
    for exercise in re.split(r"(?=^### )", section(page, "Exercises"), flags=re.M):
        if exercise.strip():
            head, _, body = exercise.partition("\n")
            slides.append({"title": plain(head.lstrip("# ")), "bullets": [plain(p) for p in
                           re.split(r"\n\s*\n", body) if p.strip()], "code": [], "image": None})
    questions = re.findall(r"^\d+\. (.*(?:\n(?!\d+\. ).*)*)", section(page, "Exit questions"), re.M)
    slides.append({"title": "Exit questions", "bullets": [plain(q) for q in questions], "code": [], "image": None})
    return slides


def build(lesson, path):
    from pptx import Presentation
    from pptx.util import Inches, Pt

    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    blank = deck.slide_layouts[6]
    for n, slide_plan in enumerate(plan(lesson)):
        slide = deck.slides.add_slide(blank)
        heading = slide.shapes.add_textbox(Inches(0.5), Inches(0.3), Inches(12.3), Inches(1.4 if n == 0 else 1.0)).text_frame
        heading.word_wrap = True
        heading.text = slide_plan["title"]
        heading.paragraphs[0].runs[0].font.size = Pt(36 if n == 0 else 30)
        heading.paragraphs[0].runs[0].font.bold = True
        width = Inches(6.6) if slide_plan["image"] else Inches(12.3)
        top = Inches(1.9 if n == 0 else 1.5)  # a title may take two lines
        words = sum(len(b.split()) for b in slide_plan["bullets"])
        if slide_plan["image"] or slide_plan["code"]:  # the words share the slide
            size = Pt(24 if words < 60 else 20 if words < 110 else 16)
        else:  # the words have the slide's whole width and 5.6 inches: larger, to be read from the back
            size = Pt(24 if words < 120 else 20)
        if slide_plan["bullets"]:
            height = Inches(1.6) if slide_plan["code"] else Inches(5.6)
            body = slide.shapes.add_textbox(Inches(0.5), top, width, height).text_frame
            body.word_wrap = True
            for i, bullet in enumerate(slide_plan["bullets"]):
                para = body.paragraphs[0] if i == 0 else body.add_paragraph()
                para.text = ("• " if len(slide_plan["bullets"]) > 1 else "") + bullet
                para.runs[0].font.size = size
                para.space_after = Pt(8)
            top += height
        if slide_plan["code"]:
            lines = slide_plan["code"]
            code = slide.shapes.add_textbox(Inches(0.5), top, Inches(12.3), Inches(7.2) - top).text_frame
            code.word_wrap = True
            longest = max(len(line) for line in lines)  # a command is read from the back: as large as fits
            mono = Pt((24 if longest <= 60 else 20) if len(lines) <= 8 else 14 if len(lines) <= 16 else 11)
            for i, line in enumerate(lines):
                para = code.paragraphs[0] if i == 0 else code.add_paragraph()
                para.text = line
                para.runs[0].font.size = mono
                para.runs[0].font.name = "Courier New"
        if slide_plan["image"]:
            slide.shapes.add_picture(str(slide_plan["image"]), Inches(7.3), Inches(1.5), width=Inches(5.6))
    deck.core_properties.title = plan(lesson)[0]["title"]
    deck.save(path)


def render(deck):
    """Open a deck with LibreOffice headless, as a real office program; save one slide as PNG."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if not office or not shutil.which("pdftoppm"):
        raise SystemExit("LibreOffice or pdftoppm is missing. On Debian: apt-get install libreoffice-impress "
                         "poppler-utils")
    with tempfile.TemporaryDirectory() as folder:
        made = subprocess.run([office, f"-env:UserInstallation=file://{folder}/profile", "--headless",
                               "--convert-to", "pdf", "--outdir", folder, str(deck)],
                              capture_output=True, text=True, timeout=300)
        pdf = Path(folder) / (deck.stem + ".pdf")
        if not pdf.exists():
            raise SystemExit(f"LibreOffice did not open {deck.name}:\n{made.stdout}{made.stderr}")
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(PREVIEW_SLIDE), "-l", str(PREVIEW_SLIDE),
                        "-singlefile", str(pdf), str(PREVIEW.with_suffix(""))], check=True)
        pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        count = re.search(r"^Pages:\s+(\d+)", pages, re.M)[1]
    print(f"LibreOffice opened {deck.relative_to(ROOT)}: {count} slides; slide {PREVIEW_SLIDE} is "
          f"{PREVIEW.relative_to(ROOT)}")


def main(args):
    if args not in ([], ["--render"]):
        print("Usage: python tools/slides.py [--render]", file=sys.stderr)
        return 2
    SLIDES.mkdir(exist_ok=True)
    for lesson in lessons():
        path = SLIDES / f"{lesson.stem}.pptx"
        build(lesson, path)
        print(f"{path.relative_to(ROOT)}: {len(plan(lesson))} slides")
    if args == ["--render"]:
        render(SLIDES / f"{PREVIEW_LESSON}.pptx")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

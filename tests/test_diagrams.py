"""The pages' sequence diagrams are what a real run puts on the wire today (tests/diagrams.py)."""
import pytest

from diagrams import capture, diagram_block, page_diagrams
from harness import STAGES, stage_number
from pages import markdown_pages, name, read

DOWN_PER_MOVE = {4: 2, 5: 1}  # stage: messages the server sends for each move


def after_each_move(lines):
    """For each step in which a game moves, the diagram's lines in that step."""
    steps, current = [], None
    for line in lines:
        if "Note over" in line:
            current = [] if "arrow for one frame" in line else None
            if current is not None:
                steps.append(current)
        elif current is not None:
            current.append(line.strip())
    return steps


@pytest.mark.parametrize("stage", STAGES)
def test_every_page_shows_the_diagram_a_fresh_capture_makes(stage):
    fresh = capture(stage)
    shown = {name(page): diagram for page in markdown_pages()
             if (diagram := page_diagrams(read(page)).get(stage)) is not None}
    assert shown, f"no page shows {stage}'s diagram"
    for page, diagram in shown.items():
        assert diagram == diagram_block(fresh), f"{page}: its {stage} diagram is stale: run make screenshots"
    moves = after_each_move(fresh)
    assert len(moves) == (2 if stage_number(stage) >= 4 else 0)
    for step in moves:  # one move up, then the server's messages down: two in stage 4, one in stage 5
        assert sum("->>S: move " in line for line in step) == 1
        assert sum(line.startswith("S->>") for line in step) == DOWN_PER_MOVE[stage_number(stage)]

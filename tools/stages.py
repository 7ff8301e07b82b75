"""The kit's stage folders, and a stage's file loaded as a module: shared by the tools.

STAGES maps each stage's number to its folder's name ({4: "stage4_relay", ...}).
stage_folder() finds the folder a --stage option names: a stage's number, or any
folder with a server.py and a game.py (a student's copy of a stage, such as the
capstone's tag). load() runs a stage's game.py or server.py as a module, as importing it would,
so its main() does not run: tools/bot.py, tools/classview.py and the tests'
game driver use the stage's own classes this way, and the stage never changes.
"""
import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = {int(re.match(r"stage(\d+)_", p.name).group(1)): p.name
          for p in ROOT.glob("stage*_*") if (p / "server.py").exists()}
FILES = ("server.py", "game.py")


def stage_folder(stage):
    """The folder that `stage` names: a stage's number ("4"), its folder's name ("stage4_relay"),
    or the path of a folder that holds a server.py and a game.py. None if it names none."""
    number = re.fullmatch(r"(?:stage)?(\d+)(?:_\w+)?", str(stage).strip("/\\"))
    if number and int(number.group(1)) in STAGES:
        return ROOT / STAGES[int(number.group(1))]
    folder = Path(stage).expanduser()
    if all((folder / name).is_file() for name in FILES):
        return folder.resolve()
    return None


def stage_number(module):
    """The number of the stage a loaded server.py or game.py is, or a copy of: from its
    STAGE line ("stage 5: optimized" -> 5)."""
    return int(re.match(r"stage (\d+)", module.STAGE).group(1))


def load(stage_dir, name):
    """stage_dir/<name>.py as a module named <name>."""
    sys.dont_write_bytecode = True  # leave no __pycache__ in a student's stage folder
    spec = importlib.util.spec_from_file_location(name, Path(stage_dir) / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

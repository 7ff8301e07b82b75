"""The kit's stage folders, and a stage's file loaded as a module: shared by the tools.

STAGES maps each stage's number to its folder's name ({4: "stage4_relay", ...}).
load() runs a stage's game.py or server.py as a module, as importing it would,
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


def load(stage_dir, name):
    """stage_dir/<name>.py as a module named <name>."""
    sys.dont_write_bytecode = True  # leave no __pycache__ in a student's stage folder
    spec = importlib.util.spec_from_file_location(name, Path(stage_dir) / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

"""The suite on every supported Python this machine has: `make test-pythons`.

    nox                       every session below; a Python that is missing is skipped with one line
    nox -s tests -p 3.9 3.14  the suite on just those Pythons
    nox -s classic_pygame     the suite with pygame instead of pygame-ce

Each session builds its own virtual environment under .nox/ from requirements.txt
and requirements-test.txt, then runs the suite headless, exactly as `make test` does.
"""
from pathlib import Path

import nox

SUPPORTED = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14"]
CLASSIC_PYGAME = "3.13"  # the newest Python that pygame 2.6.1, its latest release, has wheels for
HEADLESS = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}

nox.options.sessions = ["tests", "classic_pygame"]
nox.options.error_on_missing_interpreters = False  # a missing Python is skipped, not a failure
nox.options.reuse_existing_virtualenvs = True


def requirements(without=()):
    lines = [line for name in ("requirements.txt", "requirements-test.txt")
             for line in Path(name).read_text().splitlines()]
    wanted = [line.split("#")[0].strip() for line in lines]
    return [line for line in wanted if line and not line.startswith(tuple(without))]


@nox.session(python=SUPPORTED)
def tests(session):
    session.install(*requirements())
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", *session.posargs, env=HEADLESS)


@nox.session(python=CLASSIC_PYGAME)
def classic_pygame(session):
    """The same suite on pygame itself, so the kit stays runnable on both editions."""
    session.install(*requirements(without=["pygame-ce"]), "pygame")
    session.run("python", "-c", "import pygame; assert not getattr(pygame, 'IS_CE', False)")
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", *session.posargs, env=HEADLESS)

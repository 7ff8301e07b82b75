# The kit's commands. demo, test and diff are tools/kit.py's, which runs the same on every system
# (python3 tools/kit.py demo; Windows: py tools\kit.py demo); the first run of each creates .venv.
#   make demo            the last stage's server and two game windows
#   make demo STAGE=2    the same for stage 2 (any stage number)
#   make demo STAGE=4 LAG=100   the same, the games 100 ms from the server each way
#   make demo STAGE=4 LAG=100 JITTER=30   the same, each delay 30 ms more or less (JITTER at most LAG)
#   make demo STAGE=4 LOSS=2   2% of what crosses is lost and resent, as TCP does (add LAG too, if you like)
#   make demo STAGE=4 WIRE=1   every message printed in the terminal as it crosses (with LAG, LOSS too)
#   make bot STAGE=4     a bot player for stage 4 (tools/bot.py; the last stage without STAGE), on PORT (and HOST)
#   make view STAGE=4    the teacher's class view: stage 4's server with a window on the class, on PORT
#                        (tools/classview.py; add HOST=0.0.0.0 to serve the classroom network)
#   make test            the whole test suite, headless
#   make mutants         small bugs put into a copy of the kit one at a time, each must fail its tests
#                        (tests/mutants.py; about 20 minutes; run it before closing a change to the armour)
#   make diff STAGE=3    what stage 3 adds to stage 2, for both files
#   make screenshots     regenerate docs/*.png from the real stages, headless, the pages' wire diagrams,
#                        and the handouts
#   make handouts        the worksheets: docs/handouts/*.md from docs/worksheets/*.md and the lesson pages'
#                        exercises and exit questions (tools/handouts.py), then each stale one's .html and .pdf
#                        (tools/print_handouts.py: headless Chromium, Debian's package `chromium`); installs
#                        requirements-handouts.txt into .venv, and only this and slides do
#   make slides          docs/slides/*.pptx from the lesson pages (tools/slides.py, python-pptx), then one deck
#                        opened by LibreOffice headless (Debian's libreoffice-impress) and its slide pictured
#   make bench           measure every stage's server, and PodSixNet's own loop: messages, CPU, capacity,
#                        latency; draws docs/bench/latency.png
#   make bench AGAINST=FOLDER   the same, with stages 4 and 5 of another checkout measured in turn
#                        (an older commit, a changed copy): docs/bench/against.txt
#   make profile         where stage 4's and stage 5's servers spend their time per move (installs py-spy)
#   make test-pythons    the suite on every supported Python found here, and on classic pygame (nox)
#   make test-oldest-newest   the suite on the oldest and the newest of those Pythons, side by side, but for
#                        the classroom network tests (they test the system's TCP; make test runs them)
#   make test-debian-sid the suite on Python 3.14, in a Debian sid chroot (root, debootstrap)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAGE ?=
PORT ?= 31425
HOST ?=
LAG ?=
JITTER ?=
LOSS ?=
WIRE ?=

HEADLESS := SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy

# Pythons for nox: any on PATH, and those pyenv has installed, which it can find by
# name (python3.9, ...) once their folders are on PATH.
SUPPORTED := 3.9 3.10 3.11 3.12 3.13 3.14
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null)
empty :=
space := $(empty) $(empty)
NOX_PATH := $(subst $(space),:,$(strip $(wildcard $(PYENV_ROOT)/versions/3.*/bin) $(PATH)))
FOUND := $(foreach v,$(SUPPORTED),$(if $(shell PATH="$(NOX_PATH)" command -v python$(v)),$(v)))
MISSING := $(filter-out $(FOUND),$(SUPPORTED))

.PHONY: demo bot view test mutants diff screenshots handouts slides bench profile clean test-pythons test-oldest-newest test-debian-sid

KIT := $(PYTHON) tools/kit.py

demo:
	$(KIT) demo $(if $(STAGE),--stage $(STAGE)) --port $(PORT) $(if $(LAG),--lag $(LAG)) \
		$(if $(JITTER),--jitter $(JITTER)) $(if $(LOSS),--loss $(LOSS)) $(if $(WIRE),--wire)

bot:
	$(KIT) bot $(if $(STAGE),--stage $(STAGE)) --port $(PORT) $(if $(HOST),--host $(HOST))

view:
	$(KIT) view $(if $(STAGE),--stage $(STAGE)) --port $(PORT) $(if $(HOST),--host $(HOST))

test:
	$(KIT) test

mutants: $(VENV)/installed
	$(HEADLESS) $(BIN)/python tests/mutants.py

diff:
	@$(KIT) diff $(STAGE)

bench: $(VENV)/installed
	$(BIN)/python tests/bench.py $(if $(AGAINST),--against $(AGAINST))

profile: $(VENV)/installed
	$(BIN)/python -m pip install --quiet py-spy
	$(BIN)/python tests/profile_server.py

screenshots: $(VENV)/installed
	$(HEADLESS) $(BIN)/python tests/screenshots.py
	$(HEADLESS) $(BIN)/python tests/diagrams.py
	$(MAKE) handouts

handouts: $(VENV)/handouts
	$(BIN)/python tools/handouts.py
	$(BIN)/python tools/print_handouts.py

slides: $(VENV)/handouts
	$(BIN)/python tools/slides.py --render

# What the worksheets and the decks need, on top of the kit and its tests.
$(VENV)/handouts: requirements-handouts.txt $(VENV)/installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-handouts.txt
	touch $@

test-pythons: $(VENV)/nox
	PATH="$(NOX_PATH)" $(BIN)/nox

# The two run side by side (each prints its output when it ends), to keep CI short;
# the suite is built to pass on a busy machine.
test-oldest-newest: $(VENV)/nox
	@$(foreach v,$(MISSING),echo "Python $(v) is not on this machine: skipped.";)
	$(MAKE) -j2 --output-sync=target nox-$(firstword $(FOUND)) nox-$(lastword $(FOUND))

nox-%: $(VENV)/nox
	PATH="$(NOX_PATH)" $(BIN)/nox -s tests-$* -- -m "not classroom"

test-debian-sid:
	sh tests/debian_sid.sh

$(VENV)/nox: $(VENV)/installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check nox
	touch $@

# What the other targets need: the kit and the test tools (tests/harness.py imports pytest).
$(VENV)/installed: requirements.txt requirements-test.txt
	$(KIT) setup --tests
	touch $@

clean:
	rm -rf $(VENV) .nox .pytest_cache */__pycache__

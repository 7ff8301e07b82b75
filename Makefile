# The kit's commands. The first run of each creates .venv and installs requirements.txt.
#   make demo            the last stage's server and two game windows
#   make demo STAGE=2    the same for stage 2 (any stage number)
#   make test            the whole test suite, headless
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAGE ?=
PORT ?= 31425

.PHONY: demo test clean

demo: $(VENV)/installed
	$(BIN)/python tools/demo.py $(if $(STAGE),--stage $(STAGE)) --port $(PORT)

test: $(VENV)/installed
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy $(BIN)/python -m pytest

$(VENV)/installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache */__pycache__

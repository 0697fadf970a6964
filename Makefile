# Two commands for a fresh machine:  make demo  |  make test
# Both install what is missing into .venv (and Debian packages for the tests) first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   := .stadslab/demo
SUDO   := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: demo test install system-deps bench clean-demo

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

# Java 17 runs PySpark (the distributed backend); Chromium drives the browser tests; Mosquitto is the
# real MQTT broker the streaming tests start.
system-deps:
	@if ! command -v java >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1 || ! test -x /usr/sbin/mosquitto; then \
	  echo "installing Debian packages: openjdk-17-jre-headless chromium mosquitto"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-17-jre-headless chromium mosquitto >/dev/null; \
	fi

HOST ?= 127.0.0.1
PORT ?= 8000

# The main job: load what changed, score the burglary-style risk model against its baselines on the
# real Groningen data (the risk page shows it), then serve the app at http://$(HOST):$(PORT)
demo: $(STAMP)
	@test -d $(DEMO)/catalog || $(BIN)/stadslab init $(DEMO) --demo
	$(BIN)/stadslab refresh -w $(DEMO)
	$(BIN)/stadslab status -w $(DEMO)
	@$(BIN)/stadslab predict backtest groningen_fietsdiefstal -w $(DEMO) --start 2017-01-01 --end 2017-10-01 --reuse \
	   --register $(DEMO)/algoritmeregister >/dev/null && echo "risicomodel getoetst (zie /risico)"
	@$(BIN)/stadslab predict risk groningen_fietsdiefstal -w $(DEMO) >/dev/null && echo "risicokaart gemaakt"
	@test -f $(DEMO)/.weesfietsen-plan || ($(BIN)/stadslab weesfietsen plan -w $(DEMO) --seconden 2 >/dev/null && \
	   $(BIN)/stadslab weesfietsen backtest -w $(DEMO) >/dev/null && touch $(DEMO)/.weesfietsen-plan && \
	   echo "weesfietsen: weekplan en toets gemaakt (GESIMULEERD, zie /weesfietsen)")
	$(BIN)/stadslab serve -w $(DEMO) --host $(HOST) --port $(PORT) --refresh-every 60 \
	   --simulate-sensors denhaag_containervulling

test: $(STAMP) system-deps
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean-demo:
	rm -rf $(DEMO)

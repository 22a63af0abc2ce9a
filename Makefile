# Relais: `make run` serves the demo on http://127.0.0.1:5000 (mail kept in the local outbox, /outbox,
# unless RELAIS_MAIL_SERVER is given); `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
INSTALLED := $(VENV)/.installed

.PHONY: run test install translations messages lint format bench clean print-libraries

$(INSTALLED): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $(INSTALLED)

install: $(INSTALLED) translations print-libraries

print-libraries:  # WeasyPrint (printed programmes, press kits) needs Pango from the system
	@ldconfig -p | grep -q 'libpango-1.0.so' && ldconfig -p | grep -q 'libharfbuzz-subset.so' || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; \
	  else echo "printed documents need Pango: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0" >&2; fi; }

translations: $(INSTALLED)
	@$(BIN)/pybabel -q compile -d translations

messages: $(INSTALLED)  # after changing user-facing text: extract it and update the catalogs
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations

run: install
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty --live
	RELAIS_SCHEDULER_EMBEDDED=1 RELAIS_MAIL_OUTBOX=$${RELAIS_MAIL_OUTBOX:-$$(test -n "$$RELAIS_MAIL_SERVER" && echo 0 || echo 1)} \
		$(FLASK) run --host 127.0.0.1 --port 5000

test: install
	$(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache

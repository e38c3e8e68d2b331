# Frontdesk developer tasks. Configuration is by FRONTDESK_* environment
# variables, which pass through to every command untouched.

VENV := .venv
BIN  := $(VENV)/bin

.PHONY: venv run test lint schema documents translations bench clean

# Internal: create the virtualenv; reinstall only when pyproject.toml changes.
venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install -q -e '.[test]'
	touch $@

run: venv
	$(BIN)/frontdesk migrate
	$(BIN)/frontdesk seed-demo
	$(BIN)/frontdesk serve

test: venv
	bash scripts/test.sh

lint: venv
	$(BIN)/ruff check server tests
	$(BIN)/ruff format --check server tests
	$(BIN)/mypy

schema: venv
	$(BIN)/frontdesk export-schema

# The admin app's GraphQL operations as trusted documents (README, "Trusted documents").
documents: venv
	$(BIN)/frontdesk export-documents

# Merge the admin app's marked messages into static/admin/locale/*.po (README, "Adding a language").
translations: venv
	$(BIN)/python -m server.admin_locale

bench: venv
	bash bench/run.sh

clean:
	rm -rf $(VENV) var
	rm -f *.sqlite3 *.sqlite3-*

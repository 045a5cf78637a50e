# The two commands of the README's quick start:
#   make setup   install everything into .venv, copy and verify the English sources, run the main job
#   make test    lint, type-check and run the whole test suite (.ci/run calls this)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: setup test sources check report lint typecheck bench clean

setup: sources
	@echo "== check-alignment (all editions) =="
	@$(BIN)/toolkit check-alignment --format html --output build/check-alignment.html; \
	 $(BIN)/toolkit check-alignment; status=$$?; \
	 if [ $$status -gt 1 ]; then exit $$status; fi; \
	 echo "(exit $$status: 0 = no errors, 1 = errors reported above; HTML report: build/check-alignment.html)"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $@

sources: $(STAMP)
	$(BIN)/toolkit sync-sources

lint: $(STAMP)
	$(BIN)/ruff check toolkit tests bench

typecheck: $(STAMP)
	$(BIN)/mypy toolkit

test: sources lint typecheck
	$(BIN)/pytest -q

bench: sources
	$(BIN)/python bench/check_alignment.py

clean:
	rm -rf $(VENV) build site .toolkit-cache source_en/*/

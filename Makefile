# The two commands of the README's quick start:
#   make setup   install everything into .venv and the three framework environments, read the
#                whole book (English and every edition, locked by hash), run the main job:
#                check-alignment and the site on the whole book, run-cells on what fits in minutes
#   make test    lint, type-check and run the whole test suite (.ci/run calls this)
#   make run-book  run-cells on the whole book in every framework (hours on a CPU)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: setup test test-fast docs sources envs system lint typecheck bench clean run-book

# run-cells in `make setup`: the seed chapter and the first chapter with code in every edition,
# with each revision's own d2l library, in all four frameworks (a few minutes). `=`, not `:=`:
# the files exist only once `toolkit sync` (the `sources` prerequisite) has copied them, and a
# recursive variable is expanded when the recipe runs, after its prerequisites
QUICK_CELLS = $(wildcard translations/*/chapter_computational-performance/hybridize.md \
                          translations/*/chapter_preliminaries/ndarray.md)
# These machines have no network: d2l's dataset downloads are turned off and the cells that need
# one are reported as "needs data". With network, `make run-book DOWNLOADS=--downloads`.
DOWNLOADS ?= --no-downloads

setup: sources envs system
	@echo "== check-alignment (all editions) =="
	@$(BIN)/toolkit check-alignment --format html --output build/check-alignment.html; \
	 $(BIN)/toolkit check-alignment; status=$$?; \
	 if [ $$status -gt 1 ]; then exit $$status; fi; \
	 echo "(exit $$status: 0 = no errors, 1 = errors reported above; HTML report: build/check-alignment.html)"
	@echo "== run-cells (the seed chapter, all frameworks, all editions; the whole book: make run-book) =="
	@$(BIN)/toolkit run-cells $(DOWNLOADS) $(QUICK_CELLS); status=$$?; \
	 if [ $$status -gt 1 ]; then exit $$status; fi; \
	 echo "(exit $$status: 0 = every cell ran, 1 = failures listed above; outputs: build/cells/)"
	@echo "== site (all languages, never executes code) =="
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	@echo "site built in site/; to browse it: . .venv/bin/activate && mkdocs serve --dirty"

# every chapter of every edition in every framework: hours on a CPU (a GPU, --ray ADDRESS or
# --shard I/N on several machines helps); the outputs are cached, so an interrupted run resumes
run-book: sources envs
	$(BIN)/toolkit run-cells $(DOWNLOADS) $(RUN_BOOK_FLAGS)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $@

sources: $(STAMP)
	$(BIN)/toolkit sync

# One environment per framework, outside the checkout (~/.cache/d2l-i18n-toolkit/envs or
# $TOOLKIT_ENV_DIR), keyed by its requirement file: built once, reused by every clone and CI run.
envs: $(STAMP)
	$(BIN)/toolkit envs

# Debian packages: headless Chromium (and CJK fonts for readable screenshots) for the site's
# browser tests (Playwright drives /usr/bin/chromium and never downloads a browser), and
# gettext's msgfmt, which checks the exported PO files.
system:
	@command -v chromium >/dev/null && command -v msgfmt >/dev/null && fc-list | grep -qi "noto sans cjk" || \
	 { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk gettext >/dev/null; }
	@chromium --version 2>/dev/null; msgfmt --version | head -1

lint: $(STAMP)
	$(BIN)/ruff check toolkit tests bench docs

typecheck: $(STAMP)
	$(BIN)/mypy toolkit tests bench docs/hooks.py

test: sources envs system lint typecheck
	$(BIN)/pytest -q

# the toolkit's own guide (docs/mkdocs.yml; the reference pages are generated from the code)
docs: $(STAMP)
	$(BIN)/mkdocs build --strict -f docs/mkdocs.yml

# the fast lane for your own loop: no browser, no kernels, no whole-book run (`make test` runs all)
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not browser and not kernels and not book"

bench: sources envs
	$(BIN)/python bench/check_alignment.py
	$(BIN)/python bench/run_cells.py
	$(BIN)/python bench/site_build.py
	$(BIN)/python bench/serve_rebuild.py
	$(BIN)/python bench/po_round_trip.py
	$(BIN)/python bench/fuzz.py

clean:
	rm -rf $(VENV) build site po .toolkit-cache source_en/*/

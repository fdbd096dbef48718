# Test, lint, build and docs targets of the plausible.analytics collection. They run nox sessions, declared in
# antsibull-nox.toml and noxfile.py (`make list` shows them); the first run installs the pinned nox and antsibull-nox
# (.ci/requirements/nox.txt) into .venvs/nox, and each session installs what it needs into .nox/. CONTRIBUTING.md
# explains each check.
#
#   make test              every check below but fragment-check; last line: sessions: N passed, N failed, N skipped
#                          (CI runs this through .ci/run)
#   make quick             the fast loop (~2 min): units and one integration target (QUICK_TARGET) on the newest cell,
#                          the emulator's tests
#   make sanity            ansible-test sanity on every matrix cell, no ignore files; ansible-doc; requires_ansible = matrix
#   make units             ansible-test units on every matrix cell
#   make integration       ansible-test integration against the emulator: every target on the newest cell, the targets
#                          with the alias smoke on the others
#   make emulator-tests    pytest of tests/emulator (the emulator's own suite)
#   make lint              yamllint, extra checks (action group, unwanted files, trailing whitespace), ansible-lint (production)
#   make workflows         .github/workflows: GitHub's schema, and every nox session and make target they name exists
#   make docs-lint         antsibull-docs lint-collection-docs --plugin-docs
#   make changelog         antsibull-changelog lint (fragments and changelogs/changelog.yaml)
#   make build             build the tarball, check its file list, install it, run a module from it, galaxy-importer
#   make demo              the README's first command: onboard three sites to a local emulator, twice
#   make docs              the HTML docsite (guides and plugin reference) with antsibull-docs + Sphinx into docs/build/
#   make fragment-check BASE=origin/main   a change to plugins/, roles/ or meta/runtime.yml adds a fragment
#   make list | clean
#
# Variables:  TARGETS="plausible_site emulator_smoke"   integration targets (make integration: on the newest cell only)
#             NOXFLAGS="-r"                            extra nox options

PYTHON ?= python3
NOX := .venvs/nox/bin/nox
CELLS := 2.19 2.20 2.21  # the matrix, as MATRIX in noxfile.py says (oldest first)
NEWEST := 2.21
QUICK_TARGET ?= plausible_site
RUN = $(NOX) $(NOXFLAGS)

.PHONY: help test quick side-by-side sanity units integration emulator-tests lint workflows docs-lint changelog build demo docs fragment-check list clean

help:
	@sed -n '1,27p' Makefile | sed 's/^# \{0,1\}//'

$(NOX): .ci/requirements/nox.txt
	rm -rf .venvs/nox
	$(PYTHON) -m venv .venvs/nox
	.venvs/nox/bin/python -m pip install --quiet --disable-pip-version-check -r .ci/requirements/nox.txt
	touch $@

# make test and make quick run nox processes side by side, each with a JSON report; the last line counts the
# sessions of all: "sessions: N passed, N failed, N skipped". make test runs three: `nox` (the default sessions),
# the newest cell's full integration suite, and the other cells' smoke sets with the demo (integration waits on the
# emulator much of the time, so three keep 2 cores busy).
test: $(NOX)
	@$(MAKE) --no-print-directory side-by-side GROUPS='A B C' A='' B='-s ansible-test-integration-$(NEWEST)' \
	    C='-s $(filter-out %-$(NEWEST),$(CELLS:%=ansible-test-integration-%)) demo'

quick: $(NOX)
	@$(MAKE) --no-print-directory side-by-side GROUPS='A B' A='-s ansible-test-units-$(NEWEST) emulator' \
	    B='-s ansible-test-integration-$(NEWEST) -- $(QUICK_TARGET)'

side-by-side:
	@rm -f .nox/report-*.json
	@$(MAKE) --no-print-directory -k -j --output-sync=target $(GROUPS:%=nox-%); status=$$?; \
	$(PYTHON) -c 'import glob, json; r = [s for f in glob.glob(".nox/report-*.json") for s in json.load(open(f))["sessions"]]; \
	n = lambda *results: [s["name"] for s in r if s["result"] in results]; bad = n("failed", "aborted"); \
	print("failed:", *bad) if bad else None; print("sessions: %d passed, %d failed, %d skipped" % (len(n("success")), len(bad), len(n("skipped"))))'; \
	exit $$status

nox-%: $(NOX)
	$(RUN) --report .nox/report-$*.json $($*)

sanity: $(NOX)
	$(RUN) -s $(CELLS:%=ansible-test-sanity-%)

units: $(NOX)
	$(RUN) -s $(CELLS:%=ansible-test-units-%)

integration: $(NOX)
ifdef TARGETS
	$(RUN) -s ansible-test-integration-$(NEWEST) -- $(TARGETS)
else
	$(RUN) -s $(CELLS:%=ansible-test-integration-%)
endif

emulator-tests: $(NOX)
	$(RUN) -s emulator

lint: $(NOX)
	$(RUN) -s lint extra-checks ansible-lint

workflows: $(NOX)
	$(RUN) -s workflows

docs-lint: $(NOX)
	$(RUN) -s docs-check

changelog: $(NOX)
	$(RUN) -s changelog

build: $(NOX)
	$(RUN) -s build

docs: $(NOX)
	$(RUN) -s docs

fragment-check: $(NOX)
	$(RUN) -s fragment -- $(BASE)

demo:
	@bash docs/examples/demo.sh

list: $(NOX)
	@$(NOX) -l

clean:
	rm -rf .venvs .nox docs/build tests/output .ansible changelogs/.plugin-cache.yaml

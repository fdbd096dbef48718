# Test, lint, build and docs targets of the plausible.analytics collection.
# Every target installs what it needs into .venvs/ on first use; nothing has to be installed by hand.
# The work is done by .ci/ci.py (standard library only); CONTRIBUTING.md explains each gate.
#
#   make test              every gate below, then a summary (CI runs this through .ci/run)
#   make sanity            ansible-test sanity on every matrix cell, no ignore files; requires_ansible = matrix
#   make units             ansible-test units on the oldest and the newest cell
#   make emulator-tests    pytest of tests/emulator (the emulator's own suite)
#   make integration       ansible-test integration against a fresh emulator, oldest and newest cell
#   make lint              ansible-lint, production profile
#   make docs-lint         ansible-doc of every module and of the role on every cell; antsibull-docs lint
#   make changelog         antsibull-changelog lint (fragments and changelogs/changelog.yaml)
#   make build             build the tarball, check its file list, install it, run a module from it, galaxy-importer
#   make docs              plugin reference with antsibull-docs + Sphinx into docs/build/ (not committed)
#   make fragment-check BASE=origin/main   a change to plugins/, roles/ or meta/runtime.yml adds a fragment
#   make demo              the README's first command: onboard three sites to a local emulator, twice
#   make venvs | matrix | clean
#
# Variables:  CELLS="2.19 2.21"   matrix cells to use, by ansible-core series
#             TARGETS="plausible_site emulator_smoke"   integration targets (default: all)
#             JOBS=1              checks at a time (default: twice the CPUs, at most 8); 1 streams output live

PYTHON ?= python3
CI := $(PYTHON) .ci/ci.py
export CELLS TARGETS JOBS BASE

GATES := sanity units emulator-tests integration lint docs-lint changelog build

.PHONY: help test $(GATES) docs fragment-check venvs matrix demo clean

help:
	@sed -n '2,23p' Makefile | sed 's/^# \{0,1\}//'

test:
	@$(CI) test

$(GATES) docs fragment-check venvs matrix:
	@$(CI) $@

demo:
	@bash docs/examples/demo.sh

clean:
	rm -rf .venvs docs/build tests/output .ansible changelogs/.plugin-cache.yaml
	@$(PYTHON) -c 'import sys; sys.path.insert(0, ".ci"); import ci, shutil; shutil.rmtree(ci.STAGE_BASE, ignore_errors=True); print("removed", ci.STAGE_BASE)'

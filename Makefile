# Nurture — run `make run` to try it, `make test` to run every test.
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

CONFIG ?= nurture.example.yaml
NURTURE := .build/debug/nurture

.PHONY: run test build release deps test-deps clean demo-reset

## Installs what is missing, builds, and runs Nurture on the embedded defaults (SQLite under var/, shipped
## sequences, demo leads, emails written to var/outbox/). The demo clock runs 4320× (three days a minute).
run: deps build
	$(NURTURE) validate --config $(CONFIG)
	$(NURTURE) lead import --config $(CONFIG) demo/leads.csv --consent demo:quickstart
	@echo "== nurture serve: rendered emails appear in var/outbox/ as the demo clock runs (Ctrl-C to stop)."
	$(NURTURE) serve --config $(CONFIG) --speed $(SPEED)

SPEED ?= 4320

## Runs the whole test suite (unit, store, and CLI tests against the real binary).
test: test-deps build
	swift build --build-tests
	swift test

build:
	swift build --product nurture

release:
	swift build -c release --product nurture

deps:
	scripts/install-deps.sh build

test-deps:
	scripts/install-deps.sh test

demo-reset:
	rm -rf var/nurture.sqlite var/nurture.sqlite-wal var/nurture.sqlite-shm var/outbox

clean:
	rm -rf .build

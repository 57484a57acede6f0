# Nurture — run `make run` to try it, `make test` to run every test.
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

CONFIG ?= nurture.example.yaml
NURTURE := .build/debug/nurture

.PHONY: run test build release deps test-deps clean demo-reset

## Installs what is missing, builds, and runs Nurture on the embedded defaults (SQLite under var/, shipped sequences).
run: deps build
	$(NURTURE) validate --config $(CONFIG)
	@echo "== Shipped sequences are valid. First step of each, rendered for a demo lead:"
	$(NURTURE) preview --config $(CONFIG) cto-whitepaper whitepaper --part text \
	  --lead-json '{"email":"ada@analytical.example","first_name":"Ada","company":"Analytical Engines","whitepaper_title":"The Warehouse-Native Analytics Playbook"}'
	$(NURTURE) preview --config $(CONFIG) marketing-trial welcome --part subject \
	  --lead-json '{"email":"marie@radium.example","first_name":"Marie","company":"Radium Marketing"}'
	$(NURTURE) preview --config $(CONFIG) founder-event invitation --part subject \
	  --lead-json '{"email":"hedy@spread.example","first_name":"Hedy","company":"Spread Spectrum"}'
	@echo "== Importing demo leads into var/nurture.sqlite:"
	$(NURTURE) lead import --config $(CONFIG) demo/leads.csv --consent demo:quickstart
	$(NURTURE) lead show --config $(CONFIG) ada@analytical.example

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

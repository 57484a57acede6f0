# Nurture — run `make run` to try it, `make test` to run every test.
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

CONFIG ?= nurture.example.yaml
NURTURE := .build/debug/nurture

.PHONY: run test build release deps test-deps clean demo-reset install uninstall bench bench-deps fuzz check-mail

## Installs what is missing, builds, and runs Nurture on the embedded defaults (SQLite under var/, shipped
## sequences, demo leads, emails written to var/outbox/). The demo clock runs 4320× (three days a minute).
run: deps build
	$(NURTURE) validate --config $(CONFIG)
	$(NURTURE) lead import --config $(CONFIG) demo/leads.csv --consent demo:quickstart
	@echo "== the lifecycle: Linus converts and sales wins him (customer onboarding), Barbara is recycled (back in 2 days)."
	$(NURTURE) event --config $(CONFIG) linus@kernel.example converted
	$(NURTURE) handoff set --config $(CONFIG) linus@kernel.example won --reason "demo: signed the yearly plan"
	$(NURTURE) event --config $(CONFIG) barbara@liskov.example converted
	$(NURTURE) handoff set --config $(CONFIG) barbara@liskov.example recycled --reason "demo: not ready until next quarter"
	@echo "== nurture serve: rendered emails appear in var/outbox/ as the demo clock runs (Ctrl-C to stop)."
	$(NURTURE) serve --config $(CONFIG) --speed $(SPEED)

SPEED ?= 4320

## Runs the whole test suite (unit, store, and CLI tests against the real binary).
test: test-deps build
	swift build --build-tests
	swift test

build:
	swift build --product nurture

## Fuzzing: the libFuzzer targets of fuzz/ (templates and Markdown, YAML loaders, MIME headers, CSV, JSON) for
## FUZZ_SECONDS each over fuzz/corpus/, then the property-based runners for the token verifier and the HTTP server
## with more inputs than `make test` gives them. Findings go to .build-fuzz/artifacts/, a summary to .build-fuzz/summary.txt.
FUZZ_SECONDS ?= 60
fuzz: test-deps build
	scripts/fuzz.sh $(FUZZ_SECONDS)
	swift build --build-tests
	NURTURE_PROPERTY_RUNS=500000 NURTURE_FUZZ_HTTP_RUNS=5000 swift test --skip-build --filter 'TokenPropertyTests|HTTPPropertyTests'

release:
	swift build -c release --product nurture

deps:
	scripts/install-deps.sh build

test-deps:
	scripts/install-deps.sh test

## Installs the service: binary, unit, example configuration, sequences and templates under /etc/nurture (an
## existing configuration is never overwritten) and generated credentials. DESTDIR= stages it elsewhere.
PREFIX ?= /usr/local
ETC ?= /etc/nurture
UNIT_DIR ?= /etc/systemd/system
BIN ?= .build/release/nurture

install: $(if $(filter .build/release/nurture,$(BIN)),release)
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/nurture
	install -d -m 0755 $(DESTDIR)$(UNIT_DIR) $(DESTDIR)$(PREFIX)/share/doc/nurture $(DESTDIR)$(ETC)
	sed 's#/usr/local/#$(PREFIX)/#g' systemd/nurture.service > $(DESTDIR)$(UNIT_DIR)/nurture.service
	chmod 0644 $(DESTDIR)$(UNIT_DIR)/nurture.service
	install -m 0644 README.md nurture.example.yaml $(DESTDIR)$(PREFIX)/share/doc/nurture/
	@if [ -e $(DESTDIR)$(ETC)/nurture.yaml ]; then echo "kept the existing $(ETC)/nurture.yaml"; \
	 else install -m 0644 systemd/nurture.yaml $(DESTDIR)$(ETC)/nurture.yaml; fi
	@for d in sequences templates; do \
	   if [ -e $(DESTDIR)$(ETC)/$$d ]; then echo "kept the existing $(ETC)/$$d"; else cp -r $$d $(DESTDIR)$(ETC)/$$d; fi; done
	install -d -m 0700 $(DESTDIR)$(ETC)/credentials
	@umask 077; c=$(DESTDIR)$(ETC)/credentials; \
	 [ -e $$c/token.key ] || { head -c 32 /dev/urandom | base64 > $$c/token.key; echo "generated $(ETC)/credentials/token.key"; }; \
	 [ -e $$c/erasure.key ] || { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > $$c/erasure.key; echo >> $$c/erasure.key; echo "generated $(ETC)/credentials/erasure.key"; }; \
	 [ -e $$c/api_token ] || { head -c 32 /dev/urandom | base64 | tr -d '/+=' > $$c/api_token; echo "generated $(ETC)/credentials/api_token"; }; \
	 [ -e $$c/smtp_password ] || { : > $$c/smtp_password; echo "created an empty $(ETC)/credentials/smtp_password"; }
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@echo "Installed. Edit $(ETC)/nurture.yaml, then: systemctl enable --now nurture"

## Removes the binary, the unit and the documentation; keeps $(ETC) and /var/lib/nurture (configuration, credentials, data).
uninstall:
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl disable --now nurture 2>/dev/null || true; fi
	rm -f $(DESTDIR)$(PREFIX)/bin/nurture $(DESTDIR)$(UNIT_DIR)/nurture.service
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/nurture
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@echo "Kept $(ETC) and /var/lib/nurture: remove them by hand to erase the configuration and all data."

## Benchmarks against references measured in the same run (smtp-source, nginx); writes bench/results/latest.json.
## Scores every shipped template's signed message with SpamAssassin (local rules): at most 0.1, no charged rule.
check-mail: test-deps build
	scripts/check-mail.sh

bench: bench-deps release
	python3 bench/run.py

bench-deps: test-deps
	scripts/install-deps.sh bench

demo-reset:
	rm -rf var/nurture.sqlite var/nurture.sqlite-wal var/nurture.sqlite-shm var/outbox

clean:
	rm -rf .build

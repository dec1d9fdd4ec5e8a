#!/bin/sh
# The mutation check of the engine's key rules (README, "Mutation check"). Run by hand, never in CI:
# it mutates the run ledger, the links, the problems list and the exporter's skip/unchanged logic
# one change at a time and runs the customer-export and CLI tests against each, in one process.
# Needs TEST_DATABASE_URL (a database of its own: the tests drop and create its tables).
set -eu
: "${TEST_DATABASE_URL:?set TEST_DATABASE_URL to a PostgreSQL database the check may wipe}"
cd "$(dirname "$0")/.."
rm -rf mutants
# The rules: what a NetSuite payload hashes to and which links a page reads (links), how each
# outcome files or clears a record's problem (ledger), the order of the problems list, and when
# the exporter skips a record as unchanged (exporter._examine, record_skip).
.venv/bin/mutmut run --max-children 1 \
  'addon.sync.links.x__canonical*' 'addon.sync.links.x_content_hash*' 'addon.sync.links.x_links_for*' \
  'addon.sync.links.xǁLinkWriterǁadd*' \
  'addon.sync.ledger.xǁRunLedgerǁrecord*' 'addon.sync.ledger.xǁ_ProblemBookǁ*' \
  'addon.sync.ledger.x_clear_record_problems*' 'addon.sync.ledger.x_resolve_cause*' \
  'addon.sync.problems.*' \
  'addon.sync.exporter.x__examine*' 'addon.sync.exporter.x_record_skip*' "$@"
.venv/bin/mutmut results

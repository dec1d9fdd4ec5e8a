#!/bin/sh
# The mutation check of the engine's key rules (README, "Mutation check"). Run by hand, never in CI.
# It changes the code of the rules below one small edit at a time (mutmut, in one process) and runs
# the tests that reach each edit; an edit no test notices "survives". setup.cfg [mutmut] names the
# modules and the test files. Pass mutant patterns to check others, e.g. 'addon.sync.exporter.x__examine*'.
# Needs TEST_DATABASE_URL: a PostgreSQL database of its own (the tests drop and create its tables).
set -eu
: "${TEST_DATABASE_URL:?set TEST_DATABASE_URL to a PostgreSQL database the check may wipe}"
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then
  # The order of the problems list; which problems a record that now syncs clears, and when a cause
  # is resolved; what an amount or a date hashes to (equal hashes mean nothing is sent again).
  set -- 'addon.sync.problems.*' 'addon.sync.ledger.x_resolve_cause*' 'addon.sync.ledger.x_clear_record_problems*' \
    'addon.sync.ledger.xǁ_ProblemBookǁclear*' 'addon.sync.links.x__canonical*'
fi
rm -rf mutants
.venv/bin/mutmut run --max-children 1 "$@"
.venv/bin/mutmut results

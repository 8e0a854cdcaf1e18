#!/usr/bin/env bash
# e2e/report_ledger with the register in PostgreSQL (`syncd init --store`, a
# throwaway server from tests/support/sctest_pg.sh): `syncd report ledger`
# reads it through the store interface as it reads SQLite, row by row.
REGISTER_STORE=postgresql exec bash "$(dirname "$0")/report_ledger.sh"

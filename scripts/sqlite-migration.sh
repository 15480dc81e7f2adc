#!/usr/bin/env bash
# Writes the SQLite twin of a PostgreSQL migration, so both trees stay in lockstep:
#   scripts/sqlite-migration.sh migrations/<service>/postgres/<version>_<name>
# UUID becomes canonical TEXT, NUMERIC(14, 4) an integer of ten-thousandths (TEXT decimals
# compare, sort and sum wrongly on SQLite), TRUE/FALSE become 1/0. Review the result: a CHECK
# on a decimal needs its bound scaled by 10^4 by hand.
set -euo pipefail
src=${1:?usage: $0 migrations/<service>/postgres/<version>_<name>}
dst=${src/\/postgres\//\/sqlite\/}
mkdir -p "$dst"
for f in up.sql down.sql; do
  sed -E -e 's/\bUUID\b/TEXT/g' \
         -e 's/NUMERIC\([0-9]+, *[0-9]+\)/BIGINT/g' \
         -e 's/DEFAULT TRUE/DEFAULT 1/g; s/DEFAULT FALSE/DEFAULT 0/g' \
         -e 's/Decimals are NUMERIC; ids are TEXT\./Decimals are integers of ten-thousandths; ids are canonical UUID text./' \
         "$src/$f" > "$dst/$f"
done
echo "wrote $dst"

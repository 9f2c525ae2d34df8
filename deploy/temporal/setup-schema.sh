#!/bin/sh
# One-shot (temporalio/admin-tools): creates Temporal's two databases on its PostgreSQL and brings
# their schemas up to date. Safe to run again: creation is skipped, updates are incremental.
set -eu
ep="${POSTGRES_SEEDS:-temporal-postgresql}"
tool() { temporal-sql-tool --plugin postgres12 --ep "$ep" -u "$POSTGRES_USER" -p "${DB_PORT:-5432}" "$@"; }
for db in temporal temporal_visibility; do
  tool --db "$db" create || echo "database $db exists"
done
tool --db temporal setup-schema -v 0.0 || echo "temporal schema already set up"
tool --db temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned
tool --db temporal_visibility setup-schema -v 0.0 || echo "visibility schema already set up"
tool --db temporal_visibility update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned
echo "Temporal schema is up to date"

#!/bin/sh
# Temporal's two databases and their schemas on the stack's PostgreSQL, with the admin-tools
# image of the same release as the server (what the deprecated auto-setup image did at each
# start). Idempotent: run by the temporal-schema service at every `docker compose up`; an
# upgrade of the server image applies the new versioned schema steps here first.
set -eu
tool() {
  temporal-sql-tool --plugin postgres12 --ep postgres -p 5432 -u "$POSTGRES_USER" \
    --pw "$POSTGRES_PWD" "$@"
}
for db in temporal temporal_visibility; do
  tool --db "$db" create || echo "database $db already exists"
done
tool --db temporal setup-schema -v 0.0
tool --db temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned
tool --db temporal_visibility setup-schema -v 0.0
tool --db temporal_visibility update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned
echo "Temporal schemas up to date"

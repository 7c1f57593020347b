#!/bin/sh
# Runs once, on an empty data volume (docker-entrypoint-initdb.d): the service's own role and
# database. Temporal's databases (temporal, temporal_visibility) are created by the
# temporal-schema service (deploy/temporal/setup-schema.sh).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v password="$PTCE_DB_PASSWORD" <<'SQL'
CREATE ROLE ptce LOGIN PASSWORD :'password';
CREATE DATABASE ptce OWNER ptce;
SQL

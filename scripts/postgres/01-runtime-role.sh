#!/bin/sh
# The application's runtime role (docker-compose: run once by the postgres image at first
# start). It owns nothing: the owner (POSTGRES_USER) runs the migrations and grants it,
# after each migrate, everything but UPDATE/DELETE/TRUNCATE on the audit trail.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE spip_app LOGIN PASSWORD '${SPIP_APP_DB_PASSWORD}' NOSUPERUSER NOCREATEDB NOCREATEROLE;
-- Short queries of many small lookups: JIT compilation costs more than it saves (it was
-- most of the dashboards' delays query). Set on the role: PgBouncer passes no options.
ALTER ROLE spip_app SET jit = off;
SQL

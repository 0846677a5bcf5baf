#!/usr/bin/env bash
# Fuzzes the API with schemathesis against a running server (`make run`), once per role:
# no answer may be a server error, and every answer must match the OpenAPI schema.
# Bounded: at most 20 examples per operation and 7 minutes per role. One worker: with two,
# Hypothesis reads lambda sources from two threads at once and CPython 3.11's parser may
# fail ("AST constructor recursion depth mismatch"), an error of the tool, not of the API.
# Usage: bash scripts/api_fuzz.sh http://127.0.0.1:8000
set -euo pipefail
BASE="${1:-http://127.0.0.1:8000}"
cd "$(dirname "$0")/.."
export DJANGO_ENV="${DJANGO_ENV:-development}"  # the quickstart's database (settings fail closed)
mkdir -p var/fuzz
for user in demo.cpip demo.dspip demo.bex demo.dap; do
  token=$(.venv/bin/python manage.py drf_create_token "$user" | awk '{print $3}')
  echo "== schemathesis as $user"
  log="var/fuzz/$user.log"
  if (cd var/fuzz && timeout 420 ../../.venv/bin/schemathesis run "$BASE/api/schema/?format=json" \
    -H "Authorization: Token $token" \
    --checks not_a_server_error,response_schema_conformance,content_type_conformance \
    --phases examples,coverage,fuzzing --max-examples 20 --workers 1 --seed 20261130 \
    --suppress-health-check all --warnings off) >"$log" 2>&1; then
    tail -6 "$log"
  else
    cat "$log"  # every failure, with the request that reproduces it
    exit 1
  fi
done

#!/usr/bin/env bash
# Starts the web server (gunicorn) and two Celery workers: one for the "interactive" queue
# (messages, reminders, a user's export; it also runs the beat scheduler) and one for the
# "national" queue (snapshots, alerts, slots, purges). Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
VENV=.venv
# The static files are served from the apps in development; the folder only quiets WhiteNoise.
mkdir -p var/log var/staticfiles
# Metrics: each process group writes to its own folder (emptied here); the site's /metrics
# adds up its gunicorn workers, each Celery worker serves its own on a local port.
rm -rf var/prometheus && mkdir -p var/prometheus/web var/prometheus/interactive var/prometheus/national

if [ -n "${REDIS_URL:-}" ]; then
  broker="Redis (${REDIS_URL})"
  pool=(--pool prefork --concurrency 1)
else
  broker="embarqué (fichiers sous var/celery)"
  pool=(--pool solo)
fi

PROMETHEUS_MULTIPROC_DIR=var/prometheus/interactive SPIP_WORKER_METRICS_PORT=9101 \
  "$VENV/bin/celery" -A spip worker -B -Q interactive -n interactive@%h --loglevel INFO "${pool[@]}" \
  --schedule var/celerybeat-schedule >var/log/celery-interactive.log 2>&1 &
interactive_pid=$!
PROMETHEUS_MULTIPROC_DIR=var/prometheus/national SPIP_WORKER_METRICS_PORT=9102 \
  "$VENV/bin/celery" -A spip worker -Q national -n national@%h --loglevel INFO "${pool[@]}" \
  >var/log/celery-national.log 2>&1 &
national_pid=$!
stop() {
  kill "$interactive_pid" "$national_pid" 2>/dev/null || true
  wait "$interactive_pid" "$national_pid" 2>/dev/null || true
}
trap stop EXIT INT TERM

cat <<MSG

  Suivi SPIP est lancé : http://127.0.0.1:${PORT}/
  Base de données : ${DATABASE_URL:-SQLite (var/spip.sqlite3)} — file Celery : ${broker}
  Journaux des workers : var/log/celery-interactive.log, var/log/celery-national.log
  Supervision : http://127.0.0.1:${PORT}/healthz, /metrics ; workers : :9101/metrics, :9102/metrics

  Comptes de démonstration (mot de passe : ${DEMO_PASSWORD:-spip-demo-2026}) :
    demo.cpip, demo.cpip2, demo.cpip.autre   CPIP (les deux premiers dans la même antenne)
    demo.dpip, demo.dspip                    chef d'antenne, directeur de service
    demo.bex                                 greffe du BEX (tribunal judiciaire de Lyon)
    demo.disp, demo.dap                      vues interrégionale et nationale
    demo.partenaire, demo.admin              partenaire associatif, administrateur

MSG

# No gunicorn access log: the application writes one line per request without the query
# string (a search by surname stays out of the logs).
PROMETHEUS_MULTIPROC_DIR=var/prometheus/web "$VENV/bin/gunicorn" spip.wsgi:application \
  --config scripts/gunicorn.conf.py --bind "127.0.0.1:${PORT}" --workers 2 --timeout 60 \
  --log-level warning

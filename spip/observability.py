"""Watching the application in production: one JSON log line per request with its id, the
user's id and role and the duration (never a name, an address or a query string), a request
id carried from the proxy to every log line, and the Prometheus metrics of the jobs and
queues that the request metrics of django-prometheus do not cover.

Personal data never reaches a log line: the request line names the path (ids only, no
query string: a search by surname stays out), messages are written by the code, and the
details a database error quotes (``DETAIL:  Key (…)=(…)``) are cut from tracebacks.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar
from datetime import datetime

from django.conf import settings
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

current_request: ContextVar = ContextVar("spip_current_request", default=None)
current_request_id: ContextVar[str | None] = ContextVar("spip_request_id", default=None)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_QUIET_PATHS = ("/healthz", "/metrics", "/static/")
request_log = logging.getLogger("spip.request")


class RequestIdMiddleware:
    """Gives each request an id (the proxy's ``X-Request-ID`` when well formed, a new one
    otherwise), returns it in the response and writes the request's log line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        tokens = (current_request.set(request), current_request_id.set(request_id))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            level = logging.DEBUG if request.path.startswith(_QUIET_PATHS) else logging.INFO
            match = getattr(request, "resolver_match", None)
            duration = round((time.perf_counter() - started) * 1000, 1)
            request_log.log(
                level,
                "%s %s %s %.1f ms",
                request.method,
                request.path,
                response.status_code,
                duration,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "view": match.view_name if match else None,
                    "status": response.status_code,
                    "duration_ms": duration,
                },
            )
            return response
        finally:
            current_request_id.reset(tokens[1])
            current_request.reset(tokens[0])


def _user_fields() -> tuple[int | None, str | None]:
    """The signed-in user's id and role, as far as the request already read them: no
    query is made for a log line (the user and the scope are cached on the request)."""
    request = current_request.get()
    user = getattr(request, "_cached_user", None) if request is not None else None
    if user is None or not getattr(user, "is_authenticated", False):
        return None, None
    scope = getattr(user, "_spip_scope", None)
    role = getattr(scope, "role", None) or ("admin" if getattr(scope, "is_admin", False) else None)
    return user.pk, role


class ContextFilter(logging.Filter):
    """Adds the request id, user id and role, and the Celery task, to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        record.user_id, record.role = _user_fields()
        task = _current_task()
        record.task = task.name if task is not None else None
        record.task_id = task.request.id if task is not None else None
        return True


def _current_task():
    try:
        from celery import current_task
    except ImportError:  # pragma: no cover - celery is a dependency
        return None
    task = current_task._get_current_object() if current_task else None
    return task if task is not None and getattr(task.request, "id", None) else None


_DB_DETAIL = re.compile(r"^(DETAIL|HINT|CONTEXT):.*$", re.MULTILINE)
_KEY_VALUES = re.compile(r"(Key \([^)]*\)=)\([^\n]*?\)")


def redact(text: str) -> str:
    """Cut the values a database error quotes (a duplicate key names the person)."""
    return _KEY_VALUES.sub(r"\1(…)", _DB_DETAIL.sub(r"\1: (…)", text))


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time, level, logger, message, request and user ids, role,
    task, and the fields a call passes in ``extra``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "fmt",
            "%(asctime)s %(levelname)s %(name)s %(message)s "
            "%(request_id)s %(user_id)s %(role)s %(task)s %(task_id)s",
        )
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        kwargs.setdefault("datefmt", "%Y-%m-%dT%H:%M:%S%z")
        super().__init__(*args, **kwargs)

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        text = super().formatException(ei)
        return redact(text if isinstance(text, str) else "\n".join(text))

    def process_log_record(self, log_record):
        message = log_record.get("message")
        if isinstance(message, str):
            log_record["message"] = redact(message)
        # Celery adds a task's arguments and its exception to failure lines: never logged.
        log_record.pop("data", None)
        return {k: v for k, v in log_record.items() if v is not None}


class TextFormatter(logging.Formatter):
    """Development: readable lines, with the same redaction."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        super().__init__(*args, **kwargs)

    def formatException(self, ei) -> str:  # noqa: N802
        return redact(super().formatException(ei))

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


# --- Metrics --------------------------------------------------------------------------


def job_freshness(now: datetime | None = None) -> list[dict]:
    """Each scheduled job's last successful run and whether it is older than it may be
    (``spip.celery.JOB_MAX_AGE``). One indexed lookup per job."""
    from django.utils import timezone

    from spip.celery import JOB_MAX_AGE
    from spip.models import JobRun, JobStatus

    now = now or timezone.now()
    rows = []
    for name, max_age in JOB_MAX_AGE.items():
        last = (
            # The national runs: one service's recompute does not stand for the nation's.
            JobRun.objects.filter(name=name, status=JobStatus.SUCCESS, service__isnull=True)
            .order_by("-started_at")
            .values("started_at", "finished_at")
            .first()
        )
        started = last["started_at"] if last else None
        finished = last["finished_at"] if last else None
        age = (now - finished).total_seconds() if finished else None
        rows.append(
            {
                "job": name,
                "last_success": finished,
                "duration_seconds": (finished - started).total_seconds()
                if finished and started
                else None,
                "age_seconds": age,
                "max_age_seconds": max_age.total_seconds(),
                "fresh": age is not None and age <= max_age.total_seconds(),
            }
        )
    return rows


def queue_lengths() -> dict[str, int]:
    """Messages waiting in each Celery queue (Redis broker: the lists' lengths)."""
    from spip.celery import INTERACTIVE, NATIONAL, app

    if not str(app.conf.broker_url or "").startswith(("redis://", "rediss://")):
        return {}
    with app.connection_for_read() as conn:
        client = conn.default_channel.client
        return {queue: int(client.llen(queue)) for queue in (INTERACTIVE, NATIONAL)}


class SpipCollector:
    """Read at each scrape from the database and the broker (not kept in the process):
    every web replica reports the same figures."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        last = GaugeMetricFamily(
            "spip_job_last_success_timestamp_seconds",
            "End of the last successful run of each scheduled job (Unix time).",
            labels=["job"],
        )
        age = GaugeMetricFamily(
            "spip_job_age_seconds",
            "Seconds since the last successful run of each scheduled job.",
            labels=["job"],
        )
        limit = GaugeMetricFamily(
            "spip_job_max_age_seconds",
            "How old the last successful run may be before the job is late.",
            labels=["job"],
        )
        stale = GaugeMetricFamily(
            "spip_job_stale",
            "1 when the job has not succeeded within its maximum age (or never), else 0.",
            labels=["job"],
        )
        duration = GaugeMetricFamily(
            "spip_job_last_duration_seconds",
            "Duration of the last successful run of each scheduled job.",
            labels=["job"],
        )
        for row in job_freshness():
            job = [row["job"]]
            limit.add_metric(job, row["max_age_seconds"])
            stale.add_metric(job, 0 if row["fresh"] else 1)
            if row["last_success"] is not None:
                last.add_metric(job, row["last_success"].timestamp())
                age.add_metric(job, row["age_seconds"])
                duration.add_metric(job, row["duration_seconds"])
        yield from (last, age, limit, stale, duration)

        queues = GaugeMetricFamily(
            "spip_celery_queue_length", "Messages waiting in each Celery queue.", labels=["queue"]
        )
        try:
            lengths = queue_lengths()
        except Exception:  # noqa: BLE001 - a broker outage shows in /healthz, not here
            lengths = {}
        for queue, length in lengths.items():
            queues.add_metric([queue], length)
        yield queues


def metrics_allowed(request) -> bool:
    """With ``SPIP_METRICS_TOKEN`` set, the scraper sends it as a bearer token; without
    it, only this machine may read the metrics."""
    import hmac

    token = settings.SPIP_METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    # Behind a proxy on the same host every request comes from 127.0.0.1: production
    # serves metrics with a token only.
    if settings.DJANGO_ENV == "production":
        return False
    return request.META.get("REMOTE_ADDR") in ("127.0.0.1", "::1")


# --- Celery task metrics (counted in the worker, exposed by it) ------------------------

_task_started: dict[str, float] = {}


def _task_metrics():
    from prometheus_client import Counter, Histogram

    global _TASKS, _DURATIONS
    if _TASKS is None:
        _TASKS = Counter(
            "spip_celery_tasks", "Celery tasks run, by task and final state.", ["task", "state"]
        )
        _DURATIONS = Histogram(
            "spip_celery_task_duration_seconds",
            "Duration of Celery tasks, by task.",
            ["task"],
            buckets=(0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1200),
        )
    return _TASKS, _DURATIONS


_TASKS = None
_DURATIONS = None


def task_started(task_id=None, **_kwargs) -> None:
    if task_id:
        _task_started[task_id] = time.monotonic()


def task_finished(task_id=None, task=None, state=None, **_kwargs) -> None:
    started = _task_started.pop(task_id, None) if task_id else None
    if task is None:
        return
    tasks, durations = _task_metrics()
    tasks.labels(task.name, state or "UNKNOWN").inc()
    if started is not None:
        durations.labels(task.name).observe(time.monotonic() - started)

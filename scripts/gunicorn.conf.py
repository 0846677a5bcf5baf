"""Gunicorn hooks for the Prometheus metrics of several worker processes: with
PROMETHEUS_MULTIPROC_DIR set, each process writes its metrics there and /metrics adds them
up; the folder is emptied at start and a dead worker's live gauges are let go."""

import os
import shutil


def on_starting(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

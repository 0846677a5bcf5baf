"""The production stack as docker-compose describes it: what cannot be run here (no Docker
engine) is at least checked to say what the application needs."""

from pathlib import Path

import yaml

from spip.celery import INTERACTIVE, NATIONAL, app

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_two_web_replicas_answer_behind_the_proxy():
    services = compose()
    webs = [name for name, s in services.items() if "gunicorn" in " ".join(s.get("command", []))]
    assert sorted(webs) == ["web1", "web2"]
    proxy = (ROOT / "scripts" / "nginx.conf").read_text()
    for web in webs:
        assert f"server {web}:8000" in proxy
    assert set(services["proxy"]["depends_on"]) == set(webs)


def test_one_worker_pool_per_queue_and_every_queue_served():
    services = compose()
    served = {}
    for name, service in services.items():
        command = " ".join(service.get("command", [])).split()
        if "worker" in command:
            served[command[command.index("-Q") + 1]] = name
    assert served == {INTERACTIVE: "worker-interactive", NATIONAL: "worker-national"}
    assert app.conf.task_default_queue in served


def test_every_app_process_shares_files_sessions_and_caches():
    services = compose()
    for name in ("web1", "web2", "worker-interactive", "worker-national", "beat"):
        env = services[name]["environment"]
        assert env["SPIP_STORAGE"] == "s3", name
        assert env["SPIP_S3_ENDPOINT_URL"] == "http://minio:9000", name
        assert env["REDIS_URL"].startswith("redis://redis:"), name
        assert env["DATABASE_URL"].startswith("postgres://spip_app:"), name
        assert "@pgbouncer:" in env["DATABASE_URL"], name
    assert "media" not in str(services["web1"].get("volumes", ""))  # no local folder of files


def test_every_replica_and_worker_is_scraped_with_the_token():
    services = compose()
    scrape = yaml.safe_load((ROOT / "scripts" / "prometheus.yml").read_text())
    targets = {
        target
        for job in scrape["scrape_configs"]
        for config in job["static_configs"]
        for target in config["targets"]
    }
    assert targets == {
        "web1:8000",
        "web2:8000",
        "worker-interactive:9100",
        "worker-national:9100",
    }
    web = next(job for job in scrape["scrape_configs"] if job["job_name"] == "spip-web")
    assert web["authorization"]["credentials_file"] == "/etc/prometheus/metrics-token"
    for name in ("worker-interactive", "worker-national"):
        assert services[name]["environment"]["SPIP_WORKER_METRICS_PORT"] == "9100"
    assert "location = /metrics" in (ROOT / "scripts" / "nginx.conf").read_text()

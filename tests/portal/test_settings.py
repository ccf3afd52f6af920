"""Production is configured by environment alone, and `check --deploy` guards it."""

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DATABASE_URL": "postgres://portal:pw@db.internal:5432/portal",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "CACHE_URL": "rediscache://redis.internal:6379/1",
    "SECRET_KEY": "x7#kq2!mz9@vw4$tr8%pl3^nb6&hj1*cf5(gd0)sy-ue=ia+ok_" * 2,
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "portal.example.no",
    "PUBLIC_BASE_URL": "https://portal.example.no",
    "VIPPS_BASE_URL": "https://api.vipps.no",
    "VIPPS_SYSTEM_NAME": "acme-portal",
    "VIPPS_SYSTEM_VERSION": "1.0.0",
    "VIPPS_SYSTEM_PLUGIN_NAME": "acme-portal",
    "VIPPS_SYSTEM_PLUGIN_VERSION": "1.0.0",
}


def run_manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    local = ("DATABASE_URL", "CELERY_", "CACHE_URL", "VAR_DIR", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(local)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_values(env: dict, *names: str) -> dict:
    code = "import json; from django.conf import settings; print(json.dumps({n: getattr(settings, n) for n in %r}))"
    result = run_manage("shell", "-c", code % (names,), env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_passes_with_the_documented_production_variables():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_on_the_embedded_defaults():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env={})
    assert result.returncode != 0
    for check_id in ("portal.E001", "portal.E002", "portal.E003", "portal.E004", "portal.E005", "portal.E006"):
        assert check_id in result.stderr, check_id


def test_production_refuses_to_point_at_the_sandbox():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION_ENV, "VIPPS_BASE_URL": "http://127.0.0.1:8100"},
    )
    assert result.returncode != 0
    assert "portal.E003" in result.stderr


def test_https_public_url_turns_on_secure_cookies_hsts_and_redirects():
    values = settings_values(
        PRODUCTION_ENV,
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "DEBUG",
        "CSRF_TRUSTED_ORIGINS",
    )
    assert values["SESSION_COOKIE_SECURE"] and values["SESSION_COOKIE_HTTPONLY"] and values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_SSL_REDIRECT"] and values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["DEBUG"] is False
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://portal.example.no"]


def test_embedded_defaults_need_no_server():
    values = settings_values({}, "DATABASES", "CELERY_BROKER_URL", "CACHES", "VIPPS_BASE_URL")
    assert values["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert values["CELERY_BROKER_URL"] == "filesystem://"
    assert "FileBasedCache" in values["CACHES"]["default"]["BACKEND"]
    assert values["VIPPS_BASE_URL"].startswith("http://127.0.0.1")


def test_celery_is_configured_for_reliability(settings):
    from merchant_portal.celery import app

    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.worker_prefetch_multiplier == 1
    assert settings.CELERY_VISIBILITY_TIMEOUT > settings.CELERY_PDF_TASK_TIME_LIMIT > settings.CELERY_TASK_TIME_LIMIT
    assert app.amqp.router.route({}, "qrcodes.tasks.render_sheet")["queue"].name == "pdf"
    assert app.amqp.router.route({}, "payments.tasks.capture")["queue"].name == "default"


def test_redis_broker_gets_visibility_and_socket_timeouts():
    values = settings_values(PRODUCTION_ENV, "CELERY_BROKER_TRANSPORT_OPTIONS", "CELERY_TASK_TIME_LIMIT")
    options = values["CELERY_BROKER_TRANSPORT_OPTIONS"]
    assert options["visibility_timeout"] > values["CELERY_TASK_TIME_LIMIT"]
    assert options["socket_timeout"] and options["socket_connect_timeout"]


def test_procfile_runs_every_process_and_a_recycled_pdf_worker():
    procfile = (ROOT / "Procfile").read_text()
    names = {line.split(":", 1)[0] for line in procfile.splitlines() if line.strip()}
    assert {"web", "worker", "pdfworker", "relay", "beat", "sandbox"} <= names
    pdf_line = next(line for line in procfile.splitlines() if line.startswith("pdfworker:"))
    assert "--queues pdf" in pdf_line and "--max-tasks-per-child" in pdf_line


def test_an_overlong_vipps_system_name_is_caught_at_start_up():
    result = run_manage("check", env={"VIPPS_SYSTEM_NAME": "x" * 31})
    assert result.returncode != 0 and "portal.E007" in result.stderr

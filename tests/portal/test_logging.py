"""Quiet, honest logs: heartbeats at DEBUG, one time zone on every line, no kombu hostname warning, and a relay
that stops on SIGTERM or SIGINT with exit code 0 and no traceback."""

import logging
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import kombu
import pytest
from django.conf import settings
from django.core.management import call_command
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from merchant_portal.celery import named_broker_host
from merchant_portal.logs import RoutineTasks, ZonedFormatter

ROOT = Path(__file__).resolve().parents[2]
RELAY_LOGGER = "webhooks_app.management.commands.run_webhook_relay"
RELAY_TASK = "webhooks_app.tasks.relay_webhook_events"
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d ")


def record(name: str, level: int, msg: str, *args) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args or None, None)


# -- the relay's heartbeat --------------------------------------------------------------------------------------
def test_the_relay_logs_its_pass_at_debug_not_info(db, caplog):
    caplog.set_level(logging.DEBUG, logger=RELAY_LOGGER)
    call_command("run_webhook_relay", "--once")
    passes = [r for r in caplog.records if r.name == RELAY_LOGGER and "pass" in r.getMessage()]
    assert [r.levelno for r in passes] == [logging.DEBUG]
    assert not [r for r in caplog.records if r.name == RELAY_LOGGER and r.levelno >= logging.INFO]


def test_routine_beat_tasks_are_debug_and_others_keep_their_level():
    routine = RoutineTasks(beat_schedule=settings.CELERY_BEAT_SCHEDULE)
    assert RELAY_TASK in routine.tasks
    assert "qrcodes.tasks.reconcile_all_sales_units" not in routine.tasks  # hourly: news when it runs
    sent = record("celery.beat", logging.INFO, "Scheduler: Sending due task %s (%s)", "webhooks-relay", RELAY_TASK)
    received = record(
        "celery.worker.strategy", logging.INFO, "Task %(name)s[%(id)s] received", {"name": RELAY_TASK, "id": "1"}
    )
    for line in (sent, received):
        assert routine.filter(line) is False  # LOG_LEVEL is INFO: not shown
        assert line.levelno == logging.DEBUG and line.levelname == "DEBUG"
    failed = record("celery.app.trace", logging.ERROR, "Task %s raised", RELAY_TASK)
    other = record("celery.app.trace", logging.INFO, "Task %s succeeded", "payments.tasks.send_payment_request")
    mine = record("payments.services", logging.INFO, "relay %s", RELAY_TASK)
    for line, level in ((failed, logging.ERROR), (other, logging.INFO), (mine, logging.INFO)):
        assert routine.filter(line) is True and line.levelno == level


def test_routine_lines_show_as_debug_when_debug_is_asked_for():
    routine = RoutineTasks(beat_schedule=settings.CELERY_BEAT_SCHEDULE)
    beat = logging.getLogger("celery.beat")
    old = beat.level
    beat.setLevel(logging.DEBUG)
    try:
        line = record("celery.beat", logging.INFO, "Scheduler: Sending due task %s (%s)", "x", RELAY_TASK)
        assert routine.filter(line) is True and line.levelname == "DEBUG"
    finally:
        beat.setLevel(old)


@hsettings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["celery.beat", "celery.app.trace", "celery.worker.request", "django.request", "x"]),
    level=st.sampled_from([logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR]),
    msg=st.text(max_size=60) | st.just("Task %s received") | st.just("%(bad)s %d"),
    args=st.lists(st.text(max_size=40) | st.just(RELAY_TASK), max_size=2),
)
def test_the_routine_filter_never_raises_and_only_demotes_info(name, level, msg, args):
    line = record(name, level, msg, *args)
    kept = RoutineTasks(beat_schedule=settings.CELERY_BEAT_SCHEDULE).filter(line)
    assert kept in (True, False)
    assert line.levelno == level or (level == logging.INFO and line.levelno == logging.DEBUG and not kept)


# -- one time zone ----------------------------------------------------------------------------------------------
@pytest.fixture
def utc_process(monkeypatch):
    """The process's own zone is not TIME_ZONE (as in a gunicorn master before Django loads)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 1, 15, 11, 0, 0, 250000, tzinfo=UTC), "2026-01-15 12:00:00.250+01:00"),
        (datetime(2026, 7, 15, 11, 0, 0, tzinfo=UTC), "2026-07-15 13:00:00.000+02:00"),
    ],
)
def test_log_lines_are_stamped_in_time_zone_with_its_offset(utc_process, moment, expected):
    formatter = ZonedFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", time_zone="Europe/Oslo")
    line = record("x", logging.INFO, "hello")
    line.created = moment.timestamp()
    assert formatter.format(line) == f"{expected} INFO x hello"


def test_every_process_formats_through_settings_logging_in_time_zone(utc_process):
    plain = settings.LOGGING["formatters"]["plain"]
    assert plain["()"] == "merchant_portal.logs.ZonedFormatter" and plain["time_zone"] == settings.TIME_ZONE
    from celery.signals import setup_logging

    from merchant_portal import celery as celery_module

    # With a receiver of setup_logging, celery (workers and beat) leaves the root logger to settings.LOGGING.
    assert any(ref() is celery_module._use_django_logging for _, ref in setup_logging.receivers)
    celery_module._use_django_logging()
    (formatter,) = {h.formatter for h in logging.getLogger().handlers if isinstance(h.formatter, ZonedFormatter)}
    line = record("celery.worker", logging.WARNING, "hi")
    line.created = datetime(2026, 1, 15, 11, 0, tzinfo=UTC).timestamp()
    text = formatter.format(line)
    assert STAMP.match(text), text
    offset = datetime.fromtimestamp(line.created, formatter.zone).strftime("%H:%M:%S")
    assert text.split(" ")[1].startswith(offset)


# -- kombu's hostname warning -----------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["filesystem://", "filesystem:///", "filesystem://localhost//"])
def test_the_file_system_broker_url_names_a_host_so_kombu_does_not_warn(url, caplog, tmp_path):
    named = named_broker_host(url)
    assert named.startswith("filesystem://localhost")
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path), "control_folder": str(tmp_path)}
    caplog.set_level(logging.WARNING, logger="kombu")
    with kombu.Connection(named, transport_options=options) as connection:
        connection.info()
        connection.connect()
    assert "No hostname" not in caplog.text


def test_other_broker_urls_are_left_alone():
    assert named_broker_host("redis://redis.internal:6379/0") == "redis://redis.internal:6379/0"
    assert named_broker_host(None) is None


# -- a clean stop -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def relay_env(tmp_path_factory):
    var = tmp_path_factory.mktemp("relay")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_", "CACHE_URL"))}
    env.update(
        DATABASE_URL=f"sqlite:///{var / 'db.sqlite3'}",
        CELERY_BROKER_DIR=str(var / "broker"),
        CACHE_URL=f"filecache://{var / 'cache'}",
        VAR_DIR=str(var),
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True, timeout=300
    )
    assert migrate.returncode == 0, migrate.stderr.decode()
    return env


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_relay_stops_on_sigterm_and_sigint_with_exit_code_0_and_no_traceback(relay_env, signum):
    relay = subprocess.Popen(
        [sys.executable, "manage.py", "run_webhook_relay", "--interval", "0.05"],
        cwd=ROOT,
        env=relay_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = relay.stderr.readline()  # blocks until the loop is running (or the process died)
        assert "webhook relay started" in started, started
        relay.send_signal(signum)
        out, err = relay.communicate(timeout=30)
    finally:
        if relay.poll() is None:
            relay.kill()
            relay.communicate()
    assert relay.returncode == 0, err
    assert "Traceback" not in err and "Error" not in err, err
    assert "webhook relay stopped" in err
    assert not out
    for line in (started + err).splitlines():
        assert STAMP.match(line), line

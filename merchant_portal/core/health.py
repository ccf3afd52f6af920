"""What /healthz reports: can we reach the database and the broker, and is a worker alive?"""

from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from merchant_portal.celery import app as celery_app

from .models import Heartbeat


@dataclass
class Check:
    ok: bool
    detail: str

    def as_dict(self) -> dict:
        return {"ok": self.ok, "detail": self.detail}


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not healthy", and the page must still answer
        return Check(False, f"{type(exc).__name__}")
    return Check(True, connection.vendor)


def check_broker() -> Check:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport_cls
    except Exception as exc:
        return Check(False, f"{type(exc).__name__}")
    return Check(True, str(transport))


def check_worker() -> Check:
    try:
        beat = Heartbeat.objects.filter(name="worker").first()
    except Exception as exc:
        return Check(False, f"{type(exc).__name__}")
    if beat is None:
        return Check(False, "no heartbeat yet")
    age = (timezone.now() - beat.at).total_seconds()
    if age > settings.WORKER_HEARTBEAT_MAX_AGE:
        return Check(False, f"last heartbeat {int(age)} s ago")
    return Check(True, f"last heartbeat {int(age)} s ago")


def health_report() -> tuple[bool, dict]:
    checks = {"database": check_database(), "broker": check_broker(), "worker": check_worker()}
    healthy = all(c.ok for c in checks.values())
    return healthy, {"status": "ok" if healthy else "unhealthy", **{k: c.as_dict() for k, c in checks.items()}}

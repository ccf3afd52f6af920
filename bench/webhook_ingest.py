"""Webhook ingest benchmark: gunicorn on loopback with PostgreSQL, signed Vipps deliveries (10 % duplicates).

    .venv/bin/python bench/webhook_ingest.py [--seconds 15] [--rate 200] [--workers 3] [--connections 16]

Starts a throwaway PostgreSQL cluster (initdb/pg_ctl, as user postgres when run as root) unless DATABASE_URL
names one, migrates it, and serves the portal with gunicorn plus one extra bench-only view that inserts a single
row (the baseline). For each endpoint it measures a steady rate and saturation (closed loop), then checks the
stored rows against the accepted requests. The same module is the server's URL conf and WSGI entry point.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "merchant_portal.settings")

from bench.services import free_port, start_postgres, wait_for_port  # noqa: E402

MSN = "424242"
SECRET = "bench-secret-0b8f7e2a"


# --- server side (imported by gunicorn as bench.webhook_ingest:application) --------------------------------------


def insert_one(request):
    from django.http import JsonResponse
    from django.utils import timezone

    from merchant_portal.core.models import Heartbeat

    Heartbeat.objects.create(name=uuid.uuid4().hex, at=timezone.now())
    return JsonResponse({"ok": True})


def _urlpatterns():
    from django.urls import include, path
    from django.views.decorators.csrf import csrf_exempt

    return [path("bench/insert-one/", csrf_exempt(insert_one)), path("", include("merchant_portal.urls"))]


def __getattr__(name):
    if name == "urlpatterns":
        return _urlpatterns()
    if name == "application":
        from django.conf import settings

        settings.ROOT_URLCONF = "bench.webhook_ingest"
        from django.core.wsgi import get_wsgi_application

        return get_wsgi_application()
    raise AttributeError(name)


# --- orchestration -----------------------------------------------------------------------------------------------


def prepare_database(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    script = f"""
from merchant_portal.tenancy.models import Merchant, SalesUnit
from webhooks_app.models import WebhookSubscription
from webhooks_app.services import webhook_url
m, _ = Merchant.objects.get_or_create(slug="bench", defaults={{"name": "Bench"}})
u, _ = SalesUnit.objects.get_or_create(msn="{MSN}", environment="sandbox", defaults=dict(
    merchant=m, name="Bench", client_id="c", client_secret="s", subscription_key="k"))
WebhookSubscription.objects.get_or_create(vipps_id="bench", defaults=dict(
    sales_unit=u, url=webhook_url(), events=["epayments.payment.authorized.v1"], secret="{SECRET}"))
"""
    subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True)


def count_rows(env: dict[str, str]) -> dict[str, int]:
    script = """
import json
from merchant_portal.core.models import Heartbeat
from webhooks_app.models import WebhookDelivery, WebhookEvent
from webhooks_app.services import webhook_deliveries_file
while webhook_deliveries_file(limit=5000):  # the relay's first step: received deliveries become events
    pass
print(json.dumps({"deliveries": WebhookDelivery.objects.exclude(outcome="rejected").count(),
                  "events": WebhookEvent.objects.count(), "baseline": Heartbeat.objects.count()}))
"""
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def signed_requests(url: str, count: int, duplicate_every: int = 10) -> tuple[list[tuple[bytes, dict]], int]:
    """Pre-signed deliveries; every tenth repeats an earlier event (Vipps delivers at least once)."""
    from vipps_sandbox.signing import http_date, sign

    requests, unique = [], 0
    for i in range(count):
        if i and i % duplicate_every == 0:
            requests.append(requests[i // 2])
            continue
        unique += 1
        body = json.dumps(
            {
                "msn": MSN,
                "reference": f"bench-{uuid.uuid4().hex[:20]}",
                "pspReference": str(uuid.uuid4().int)[:18],
                "name": "AUTHORIZED",
                "amount": {"currency": "NOK", "value": 49900},
                "timestamp": "2025-01-14T10:14:59.512Z",
                "idempotencyKey": str(uuid.uuid4()),
                "success": True,
            },
            separators=(",", ":"),
        ).encode()
        headers = sign(SECRET, url, body, http_date()).headers() | {"Content-Type": "application/json"}
        requests.append((body, headers))
    return requests, unique


class Load:
    def __init__(self, port: int, path: str, requests: list[tuple[bytes, dict]]):
        self.port, self.path, self.requests = port, path, requests
        self.lock, self.next, self.latencies, self.statuses = threading.Lock(), 0, [], {}

    def take(self):
        with self.lock:
            if self.next >= len(self.requests):
                return None
            self.next += 1
            return self.requests[self.next - 1]

    def send(self, conn: HTTPConnection, item) -> None:
        body, headers = item
        started = time.perf_counter()
        conn.request("POST", self.path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies.append(elapsed)
            self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
        if response.getheader("Connection", "").lower() == "close":
            conn.close()

    def run(self, *, seconds: float, connections: int, rate: float | None) -> float:
        """Closed loop (rate None: as fast as `connections` allow) or an open loop at `rate` per second."""
        started = time.perf_counter()
        deadline = started + seconds
        interval = connections / rate if rate else 0.0

        def worker(n: int) -> None:
            conn = HTTPConnection("127.0.0.1", self.port, timeout=30)
            due = started + n * (interval / connections)
            while time.perf_counter() < deadline:
                if rate:
                    pause = due - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    due += interval
                item = self.take()
                if item is None:
                    return
                self.send(conn, item)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - started

    def report(self, label: str, elapsed: float) -> float:
        lat = sorted(self.latencies)
        rps = len(lat) / elapsed
        p50, p99 = statistics.median(lat) * 1000, lat[int(len(lat) * 0.99) - 1] * 1000
        print(f"{label:<34} {rps:8.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   statuses {self.statuses}")
        return rps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    os.chmod(tmp, 0o755)
    stop_pg = None
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        # Default durability (fsync and synchronous_commit on): a 200 must mean the row is on disk.
        database_url, stop_pg = start_postgres(tmp, "-c max_connections=100")
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1",
        "VAR_DIR": str(tmp / "var"),
        "LOG_LEVEL": "WARNING",
    }
    server = None
    try:
        prepare_database(env)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "bench.webhook_ingest:application", "--bind", f"127.0.0.1:{port}",
             "--workers", str(args.workers), "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        wait_for_port(port, pause=0.1)
        url = f"http://127.0.0.1:{port}/hooks/vipps/"
        per_phase = int(max(args.rate, 3000) * args.seconds * 1.5)
        print(f"gunicorn {args.workers} sync workers, {args.connections} connections, {args.seconds:.0f} s per phase")
        results, sent, unique_total = {}, 0, 0
        for label, path, rate in [
            ("baseline (insert one row), steady", "/bench/insert-one/", args.rate),
            ("baseline (insert one row), saturated", "/bench/insert-one/", None),
            ("webhook ingest, steady", "/hooks/vipps/", args.rate),
            ("webhook ingest, saturated", "/hooks/vipps/", None),
        ]:
            if path == "/bench/insert-one/":
                requests = [(b"{}", {"Content-Type": "application/json"})] * per_phase
            else:
                requests, _ = signed_requests(url, per_phase)
            load = Load(port, path, requests)
            elapsed = load.run(seconds=args.seconds, connections=args.connections, rate=rate)
            results[label] = load.report(label, elapsed)
            if path == "/hooks/vipps/":
                answered = load.requests[: len(load.latencies)]
                sent += load.statuses.get(200, 0)
                unique_total += len({body for body, _ in answered})
        rows = count_rows(env)
        ratio = results["webhook ingest, saturated"] / results["baseline (insert one row), saturated"]
        print(f"ratio webhook/baseline at saturation: {ratio:.2f}")
        print(
            f"accepted requests {sent}, stored deliveries {rows['deliveries']} (missing or doubled: "
            f"{sent - rows['deliveries']}); unique events sent {unique_total}, stored events {rows['events']} "
            f"(difference {unique_total - rows['events']})"
        )
        return 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        if stop_pg is not None:
            stop_pg()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

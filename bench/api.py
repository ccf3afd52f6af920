"""REST API benchmark: list and create payments through gunicorn at a fixed 200 requests/s; target p99 < 50 ms.

    .venv/bin/python bench/api.py [--db auto|sqlite|postgres|both] [--rate 200] [--duration 20] [--warmup 3]
                                  [--slice 2] [--payments 50000] [--checkins 20000] [--throttle 400/s]
                                  [--workers 0] [--threads 0] [--worker-class ""]

Serves the portal with the Procfile's `web` line itself (gunicorn `merchant_portal.wsgi`, access log; --workers,
--threads and --worker-class set WEB_WORKERS, WEB_THREADS and WEB_WORKER_CLASS; 0 or empty: the Procfile's) on a
loopback port, one request per connection as a reverse proxy sends them, against a database seeded with
--payments payments and --checkins check-ins of one merchant (and a fifth as many of another, so the tenant filter
has something to skip). `--db auto` uses DATABASE_URL when it
names PostgreSQL and otherwise SQLite (with the file-system broker and file cache, the embedded defaults) in a
temporary folder. `--db postgres` uses DATABASE_URL or starts a throwaway cluster (as bench/webhook_ingest.py
does, with default durability), and a throwaway Redis for broker and cache when `redis-server` is installed
(the production shape). The API key is made by `api_key_create`, as an owner would. API_THROTTLE_RATE is raised
to twice --rate per second for the run (the default, 600/min per key, would answer most requests with 429).

The load is an open loop: request i is due at start + i/rate whatever happened before it, and its latency is
measured from that due time (so a stall delays and counts every request behind it: no coordinated omission).
Each endpoint gets --warmup seconds unrecorded, then --duration seconds recorded, in turns of --slice seconds
(each turn ends when its last answer is in), so a burst of other work on a shared machine lands on every endpoint:
  floor    an unknown /api/v1/ path: the API's catch-all DRF view (404 problem+json, no key, no database),
           i.e. gunicorn + middleware + DRF + rendering, the least any API request costs;
  healthz  /healthz (a SELECT, a broker connection, the worker heartbeat row; a heartbeat is seeded);
  GET /api/v1/payments/ page 1, and a cursor 90 % down the list (both 50 rows);
  POST /api/v1/payments/ to a phone number at a location, each with its own Idempotency-Key.
A POST only saves the payment and enqueues the send task (CELERY_TASK_ALWAYS_EAGER=false, no worker runs):
VIPPS_BASE_URL points at a closed port, and the bench checks afterwards that the outbound call log is empty,
that every 201 is one payment, and that each has one message waiting in the broker.

The report gives p50/p95/p99/max, errors and the achieved rate per endpoint, p99 as a ratio to the floor and to
healthz measured in the same run, whether p99 < 50 ms, and the CPU time each request cost the gunicorn workers,
PostgreSQL and Redis (when started here) and this client: on a machine this small the CPU per request, not the
database, decides which rate can meet the target.
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "merchant_portal.settings")

from bench.services import free_port, start_postgres, start_redis  # noqa: E402

TARGET_P99_MS = 50.0
# One request per connection, as nginx sends to its upstream by default (and as gunicorn's sync workers answer
# anyway): kept-alive connections would stick to one worker process, whose GIL holds it to one core.
CLOSE = {"Connection": "close"}
PAGE_SIZE = 50  # merchant_portal.api.pagination.IdCursorPagination.page_size


# --- seeding and checks (run in a child process, with the server's environment) ----------------------------------


def seed(payments: int, checkins: int) -> dict:
    import django

    django.setup()
    import hashlib
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from merchant_portal.api.models import ApiKey
    from merchant_portal.api.services import api_key_create
    from merchant_portal.core.models import Heartbeat
    from merchant_portal.tenancy.models import Merchant, SalesUnit
    from payments.models import CheckIn, Payment
    from qrcodes.models import Location

    call_command("migrate", verbosity=0)
    started, now = time.perf_counter(), timezone.now()
    states = ["AUTHORIZED", "AUTHORIZED", "AUTHORIZED", "EXPIRED", "ABORTED", "CREATED"]
    out = {}
    for slug, msn, share in (("other", "434343", 5), ("bench", "424242", 1)):  # the bench merchant's rows last
        merchant = Merchant.objects.create(name=slug.title(), slug=slug)
        unit = SalesUnit.objects.create(
            merchant=merchant, msn=msn, name=slug, client_id="c", client_secret="s", subscription_key="k"
        )
        locations = [Location.objects.create(sales_unit=unit, name=f"{slug} till {i}") for i in range(10)]
        n_checkins, n_payments = checkins // share, payments // share
        rows = []
        for n in range(n_checkins):
            at = now - timedelta(seconds=(n_checkins - n) * 60)
            token = f"{slug}-token-{n}"
            rows.append(
                CheckIn(
                    sales_unit=unit,
                    location=locations[n % 10],
                    customer_token=token,
                    token_digest=hashlib.sha256(token.encode()).hexdigest(),
                    initiated_at=at,
                    expires_at=at + timedelta(minutes=15),
                    status=CheckIn.Status.EXPIRED,
                )
            )
        checkin_objs = CheckIn.objects.bulk_create(rows, batch_size=2000)
        rows = []
        for n in range(n_payments):
            checkin = checkin_objs[n % len(checkin_objs)] if checkin_objs and n % 3 == 0 else None
            rows.append(
                Payment(
                    merchant=merchant,
                    sales_unit=unit,
                    location=checkin.location if checkin else locations[n % 10],
                    checkin=checkin,
                    reference=f"{msn}-seed-{n:08d}",
                    idempotency_key=f"seed-{msn}-{n}",
                    currency=unit.currency,
                    amount=1000 + (n * 7919) % 100000,
                    description="Seeded payment",
                    customer_label="check-in" if checkin else "47******67",
                    sending=Payment.Sending.SENT,
                    state=states[n % len(states)],
                    authorized_amount=1000,
                    created_at=now - timedelta(seconds=(n_payments - n) * 30),
                )
            )
        Payment.objects.bulk_create(rows, batch_size=2000)
        out[slug] = {"merchant": merchant, "locations": locations}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum would have done by the time a table is this big
    merchant = out["bench"]["merchant"]
    _, token = api_key_create(merchant=merchant, actor=None, name="Bench POS", access=ApiKey.Access.READ_WRITE)
    Heartbeat.objects.update_or_create(name="worker", defaults={"at": timezone.now()})
    ids = list(Payment.objects.filter(merchant=merchant).order_by("-id").values_list("id", flat=True))
    return {
        "token": token,
        "location": out["bench"]["locations"][0].pk,
        "deep_id": ids[int(len(ids) * 0.9)],
        "payments": Payment.objects.count(),
        "checkins": CheckIn.objects.count(),
        "max_id": ids[0],
        "seconds": round(time.perf_counter() - started, 1),
        "vendor": connection.vendor,
    }


def verify(since_id: int) -> dict:
    import django

    django.setup()
    from django.conf import settings

    from merchant_portal.tenancy.models import VippsCall
    from payments.models import Payment

    created = Payment.objects.filter(pk__gt=since_id)
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_out"])
        messages = sum(1 for f in folder.iterdir() if f.name.endswith(".default.msg"))
    else:
        import redis

        messages = redis.Redis.from_url(settings.CELERY_BROKER_URL).llen("default")
    return {
        "payments": created.count(),
        "queued": created.filter(sending=Payment.Sending.QUEUED).count(),
        "distinct_keys": created.values("idempotency_key").distinct().count(),
        "broker_messages": messages,
        "vipps_calls": VippsCall.objects.count(),
    }


# --- the load generator -------------------------------------------------------------------------------------------


class OpenLoop:
    """Request i of a slice is due at start + i/rate, whatever happened before it; `connections` threads each take
    the next due request when free. run() may be called again (the next slice); its numbers continue, so request
    bodies and Idempotency-Keys never repeat, and the recorded results add up."""

    def __init__(self, port: int, make_request, *, rate: float, connections: int):
        self.port, self.make_request, self.rate, self.connections = port, make_request, rate, connections
        self.lock, self.sent, self.active = threading.Lock(), 0, 0.0
        self.latencies, self.statuses, self.warmup_statuses = [], {}, {}

    def run(self, seconds: float, *, record: bool = True) -> None:
        total, first = int(self.rate * seconds), self.sent
        self.sent += total
        numbers = iter(range(total))
        started = time.perf_counter() + 0.02
        statuses = self.statuses if record else self.warmup_statuses
        finished = started

        def worker() -> None:
            nonlocal finished
            conn = HTTPConnection("127.0.0.1", self.port, timeout=30)
            while True:
                with self.lock:
                    i = next(numbers, None)
                if i is None:
                    return
                due = started + i / self.rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                method, path, body, headers = self.make_request(first + i)
                try:
                    conn.request(method, path, body=body, headers=headers | CLOSE)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                    if response.getheader("Connection", "").lower() == "close":
                        conn.close()  # gunicorn's sync workers close after each response; reconnect next time
                except OSError as exc:
                    status = type(exc).__name__
                    conn.close()
                done = time.perf_counter()
                with self.lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    if record:
                        self.latencies.append(done - due)
                    finished = max(finished, done)

        threads = [threading.Thread(target=worker) for _ in range(self.connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()  # the slice ends when its last answer is in: no backlog leaks into the next slice
        if record:
            self.active += finished - started

    def summary(self, expected: int) -> dict:
        lat = sorted(x * 1000 for x in self.latencies)

        def pct(q: float) -> float:
            return lat[max(0, int(len(lat) * q + 0.999999) - 1)]

        errors = sum(n for status, n in self.statuses.items() if status != expected)
        return {
            "p50": pct(0.50),
            "p95": pct(0.95),
            "p99": pct(0.99),
            "max": lat[-1],
            "errors": errors,
            "statuses": self.statuses,
            "rate": len(lat) / self.active,
            "count": len(lat),
        }


# --- orchestration ------------------------------------------------------------------------------------------------


def procfile_command(process: str, env: dict) -> list[str]:
    """The Procfile's command line for `process`, with its ${NAME:-default} expanded from `env`: the bench serves
    exactly what `make run` and a deployment serve."""
    import re
    import shlex

    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith(f"{process}:"))
    expanded = re.sub(
        r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: env.get(m.group(1)) or m.group(2) or "", line.partition(":")[2]
    )
    argv = shlex.split(expanded)
    return [sys.executable, "-m", argv[0], *argv[1:]]


def cpu_seconds(root_pid: int) -> float:
    """CPU time of a process and its live children, plus what its finished children used (gunicorn's workers,
    PostgreSQL's backends)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended meanwhile; its time is in its parent's cutime now
        if int(stat.parent.name) == root_pid:
            ticks += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
        elif int(fields[1]) == root_pid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def child(mode: str, env: dict, *args) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, mode, *map(str, args)], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def wait_for_http(port: int, path: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer {path} within {seconds} s")


def bench_one(db: str, args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
    os.chmod(tmp, 0o755)
    stops, server, service_pids = [], None, []  # service_pids: the database's and Redis' (when started here)
    env = os.environ | {
        "VAR_DIR": str(tmp / "var"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "VIPPS_BASE_URL": "http://127.0.0.1:9",  # nothing listens: the request path must not call Vipps
        "API_THROTTLE_RATE": args.throttle,
        "WORKER_HEARTBEAT_MAX_AGE": "86400",  # the seeded heartbeat keeps /healthz at 200 for the whole run
    }
    try:
        if db == "sqlite":
            env["DATABASE_URL"] = f"sqlite:///{tmp / 'db.sqlite3'}"
            env |= {"CELERY_BROKER_URL": "filesystem://", "CACHE_URL": f"filecache://{tmp / 'var' / 'cache'}"}
            env["CELERY_BROKER_DIR"] = str(tmp / "var" / "broker")
            stack = "SQLite (WAL) + file-system broker + file cache"
        else:
            if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
                env["DATABASE_URL"], stop_pg = start_postgres(tmp)
                stops.append(stop_pg)
                service_pids.append(int((tmp / "pg" / "postmaster.pid").read_text().split()[0]))
            if os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
                stack = "PostgreSQL + the configured broker and cache"
            elif shutil.which("redis-server"):
                redis_url, stop_redis, redis_pid = start_redis(tmp)
                stops.append(stop_redis)
                service_pids.append(redis_pid)
                env |= {
                    "CELERY_BROKER_URL": f"{redis_url}/0",
                    "CACHE_URL": f"{redis_url.replace('redis', 'rediscache')}/1",
                }
                stack = "PostgreSQL + Redis (broker and cache)"
            else:
                env |= {"CELERY_BROKER_URL": "filesystem://", "CACHE_URL": f"filecache://{tmp / 'var' / 'cache'}"}
                env["CELERY_BROKER_DIR"] = str(tmp / "var" / "broker")
                stack = "PostgreSQL + file-system broker + file cache (no redis-server installed)"
        (tmp / "var" / "static").mkdir(parents=True, exist_ok=True)  # as after collectstatic: no WhiteNoise warning

        seeded = child("--seed", env, args.payments, args.checkins)
        print(
            f"\n== {stack}: seeded {seeded['payments']:,} payments and {seeded['checkins']:,} check-ins "
            f"in {seeded['seconds']} s",
            flush=True,
        )
        port = free_port()
        server_log = open(tmp / "gunicorn.log", "wb")  # noqa: SIM115 (closed with the server below)
        web_env = env | {"WEB_BIND": f"127.0.0.1:{port}"}
        web_env |= {"WEB_WORKERS": str(args.workers)} if args.workers else {}
        web_env |= {"WEB_THREADS": str(args.threads)} if args.threads else {}
        web_env |= {"WEB_WORKER_CLASS": args.worker_class} if args.worker_class else {}
        server = subprocess.Popen(
            procfile_command("web", web_env), cwd=ROOT, env=web_env, stdout=subprocess.DEVNULL, stderr=server_log
        )
        wait_for_http(port, "/healthz")

        auth = {"Authorization": f"Bearer {seeded['token']}", "Accept": "application/json"}
        deep = base64.b64encode(urlencode({"p": seeded["deep_id"]}).encode()).decode()  # DRF's cursor format

        def get(path: str, headers=None):
            return lambda i: ("GET", path, None, headers or {})

        def create(i: int):
            body = json.dumps(
                {
                    "phone_number": f"479{i % 10_000_000:07d}",
                    "location": seeded["location"],
                    "amount": 100 + i,
                    "description": f"Bench order {i}",
                }
            )
            headers = auth | {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
            return "POST", "/api/v1/payments/", body, headers

        phases = [
            ("floor (unknown /api/v1/ path)", get("/api/v1/bench-floor/"), 404),
            ("healthz", get("/healthz"), 200),
            ("GET payments, page 1", get("/api/v1/payments/", auth), 200),
            ("GET payments, cursor 90 % down", get(f"/api/v1/payments/?cursor={deep}", auth), 200),
            ("POST payments (phone number)", create, 201),
        ]
        for _, make, expected in phases[2:4]:  # the pages are what we think they are
            conn = HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request(*make(0)[:2], headers=make(0)[3])
            response = conn.getresponse()
            page = json.loads(response.read())
            assert response.status == expected and len(page["results"]) == PAGE_SIZE and page["next"], response.status

        print(
            f"{' '.join(procfile_command('web', web_env)[2:])}\n"
            f"{args.rate:.0f} requests/s open loop over {args.connections} "
            f"client connections; per endpoint {args.warmup:.0f} s warm-up, then {args.duration:.0f} s in turns of "
            f"{args.slice:.0f} s\nAPI_THROTTLE_RATE={args.throttle} for this run (default 600/min per key); "
            "PAYMENTS_MODIFICATIONS_PER_MINUTE is per payment and counted by the send task, which no worker runs "
            "here; CELERY_TASK_ALWAYS_EAGER=false",
            flush=True,
        )
        loops = {
            label: (OpenLoop(port, make, rate=args.rate, connections=args.connections), expected)
            for label, make, expected in phases
        }
        for loop, _ in loops.values():
            loop.run(args.warmup, record=False)
        # Endpoints take turns in short slices, so a burst of other work on this shared machine lands on all of them
        # rather than on whichever phase happened to be running.
        rounds = max(1, round(args.duration / args.slice))
        cpu = {label: [0.0, 0.0, 0.0] for label in loops}  # seconds: web (gunicorn), services, this client

        def cpu_now() -> list[float]:
            services = sum(cpu_seconds(pid) for pid in service_pids)
            return [cpu_seconds(server.pid), services, time.process_time()]

        for n in range(rounds):
            for label, (loop, _) in loops.items():
                before = cpu_now()
                loop.run(args.duration / rounds)
                cpu[label] = [total + b - a for total, a, b in zip(cpu[label], before, cpu_now(), strict=True)]
            print(f"\r  round {n + 1}/{rounds}", end="", flush=True)
        print()
        results = {label: loop.summary(expected) for label, (loop, expected) in loops.items()}
        for label, r in results.items():
            r["cpu_ms"] = [seconds * 1000 / r["count"] for seconds in cpu[label]]
        post = loops["POST payments (phone number)"][0]
        created = post.statuses.get(201, 0) + post.warmup_statuses.get(201, 0)
        checks = child("--verify", env, seeded["max_id"])
        return {"stack": stack, "results": results, "checks": checks, "created": created, "services": service_pids}
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
            server_log.close()
            errors = [line for line in (tmp / "gunicorn.log").read_text().splitlines() if " ERROR " in line]
            if errors:  # the bench's 404s are logged as warnings; anything worse is shown
                print("server errors:", *errors[:20], sep="\n  ")
        for stop in reversed(stops):
            stop()
        shutil.rmtree(tmp, ignore_errors=True)


def report(run: dict, rate: float) -> None:
    results = run["results"]
    floor, health = results["floor (unknown /api/v1/ path)"], results["healthz"]
    services = "db+redis" if len(run["services"]) > 1 else "db" if run["services"] else "-"
    print(f"\n{run['stack']}: latency from the scheduled send time, ms")
    print(
        f"{'request':<32}{'p50':>7}{'p95':>7}{'p99':>7}{'max':>8}{'errors':>7}{'req/s':>6}{'p99/floor':>10}"
        f"{'p99/healthz':>12}  p99<{TARGET_P99_MS:.0f}   CPU ms/request: web{services:>9}  client"
    )
    for label, r in results.items():
        web, svc, client = r["cpu_ms"]
        print(
            f"{label:<32}{r['p50']:>7.1f}{r['p95']:>7.1f}{r['p99']:>7.1f}{r['max']:>8.1f}{r['errors']:>7}"
            f"{r['rate']:>6.0f}{r['p99'] / floor['p99']:>10.2f}{r['p99'] / health['p99']:>12.2f}  "
            f"{'met   ' if r['p99'] < TARGET_P99_MS else 'MISSED'}{web:>24.2f}{svc if run['services'] else 0:>9.2f}"
            f"{client:>8.2f}"
        )
        if r["errors"]:
            print(f"{'':<32}statuses {r['statuses']}")
    cores = os.cpu_count() or 1
    for label, r in results.items():
        server_cpu = r["cpu_ms"][0] + r["cpu_ms"][1]
        if label.startswith(("GET", "POST")):
            busy, ceiling = rate * server_cpu / 10 / cores, cores * 1000 / server_cpu
            print(
                f"  {label}: {server_cpu:.1f} ms of server CPU per request: {rate:.0f}/s keeps {busy:.0f} % of "
                f"{cores} cores busy (at most {ceiling:.0f}/s)"
            )
    c = run["checks"]
    print(
        f"POST check: {run['created']} answered 201 (with warm-up), {c['payments']} payments saved "
        f"({c['distinct_keys']} distinct, {c['queued']} queued), {c['broker_messages']} send tasks waiting in the "
        f"broker, {c['vipps_calls']} calls to Vipps made"
    )


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--seed":
        print(json.dumps(seed(int(sys.argv[2]), int(sys.argv[3]))))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--verify":
        print(json.dumps(verify(int(sys.argv[2]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["auto", "sqlite", "postgres", "both"], default="auto")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=20, help="seconds measured per phase")
    parser.add_argument("--warmup", type=float, default=3, help="seconds unrecorded per endpoint, first")
    parser.add_argument("--slice", type=float, default=2, help="seconds per turn; endpoints take turns")
    parser.add_argument("--payments", type=int, default=50_000)
    parser.add_argument("--checkins", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=0, help="gunicorn processes (WEB_WORKERS; 0: the Procfile's)")
    parser.add_argument("--threads", type=int, default=0, help="threads per worker (WEB_THREADS; 0: the Procfile's)")
    parser.add_argument("--worker-class", default="", help="gunicorn worker class (WEB_WORKER_CLASS; the Procfile's)")
    parser.add_argument("--connections", type=int, default=32, help="client threads; enough to never wait on one")
    parser.add_argument("--throttle", default="", help="API_THROTTLE_RATE for the run (default: 2x --rate per s)")
    args = parser.parse_args()
    args.throttle = args.throttle or f"{int(args.rate * 2)}/s"
    if args.db == "auto":
        args.db = "postgres" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}")
    runs = [bench_one(db, args) for db in dbs]
    for run in runs:
        report(run, args.rate)
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

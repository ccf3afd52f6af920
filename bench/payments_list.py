"""Payments list benchmark: the payments page and its CSV export with 1,000,000 payments on PostgreSQL.

    .venv/bin/python bench/payments_list.py [--rows 1000000] [--small 1000] [--requests 40]

Starts a throwaway PostgreSQL cluster (initdb/pg_ctl, as user postgres when run as root) unless DATABASE_URL
names a PostgreSQL database, migrates it, and bulk-loads two merchants with generate_series: a big one with
--rows payments and a small one with --small. Each page is requested in-process through Django's test client
(the whole view, template and middleware stack, no network) and timed; the report gives the p95 of page 1 and
of a deep page (a cursor 90 % down the list), the queries per request, and the ratio big/small.

The CSV export is streamed; its time to the first chunk is measured like a page, and one full export of the big
merchant is timed once (rows per second).
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "merchant_portal.settings")

from bench.services import start_postgres  # noqa: E402

LOAD_SQL = """
INSERT INTO payments_payment (
    merchant_id, sales_unit_id, location_id, checkin_id, reference, idempotency_key, currency, amount, description,
    receipt, customer, customer_label, auto_capture, sending, state, authorized_amount, captured_amount,
    refunded_amount, cancelled_amount, psp_reference, error_code, error_message, created_by_id, created_at,
    updated_at, checked_at, next_check_at)
SELECT %(merchant)s, %(unit)s, (ARRAY[%(locations)s])[1 + n %% %(location_count)s], NULL,
       %(prefix)s || '-' || n, %(prefix)s || '-key-' || n, 'NOK', 1000 + (n * 7919) %% 100000, 'Bench payment',
       NULL, '', '47******67', false, 'sent',
       (ARRAY['AUTHORIZED','AUTHORIZED','AUTHORIZED','EXPIRED','ABORTED','CREATED'])[1 + n %% 6],
       1000, 1000, 0, 0, '', '', '', NULL,
       now() - make_interval(secs => (%(rows)s - n) * 30), now(), NULL, NULL
FROM generate_series(1::bigint, %(rows)s::bigint) AS n
"""


def load(rows: int, small: int):
    from django.contrib.auth import get_user_model
    from django.db import connection

    from merchant_portal.tenancy.models import Membership, Merchant, SalesUnit
    from merchant_portal.tenancy.roles import Role
    from qrcodes.models import Location

    user = get_user_model().objects.create_user("bench", "bench@example.com", "bench-password-123")
    merchants = {}
    for slug, count, msn in (("big", rows, "424242"), ("small", small, "434343")):
        merchant = Merchant.objects.create(name=slug.title(), slug=slug)
        Membership.objects.create(user=user, merchant=merchant, role=Role.OWNER)
        unit = SalesUnit.objects.create(
            merchant=merchant, msn=msn, name=slug, client_id="c", client_secret="s", subscription_key="k"
        )
        locations = [Location.objects.create(sales_unit=unit, name=f"{slug} till {i}").pk for i in range(10)]
        started = time.perf_counter()
        with connection.cursor() as cursor:
            params = {
                "merchant": merchant.pk,
                "unit": unit.pk,
                "locations": locations,
                "location_count": len(locations),
                "prefix": f"{msn}-b",
                "rows": count,
            }
            # ARRAY[%s] with a list: psycopg adapts the list itself, so unwrap it to a plain array literal.
            sql = LOAD_SQL.replace("ARRAY[%(locations)s]", "%(locations)s::bigint[]")
            cursor.execute(sql, params)
            cursor.execute("ANALYZE payments_payment")
        print(f"loaded {count:,} payments for {slug} in {time.perf_counter() - started:.1f} s", flush=True)
        merchants[slug] = merchant
    return user, merchants


def measure(client, url: str, requests: int, *, stream_first_chunk: bool = False):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, queries = [], set()
    for i in range(requests + 3):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            if stream_first_chunk:
                next(iter(response.streaming_content))
            elapsed = (time.perf_counter() - started) * 1000
            if stream_first_chunk:
                response.close()
        assert response.status_code == 200, (url, response.status_code)
        if i >= 3:  # warm-up
            timings.append(elapsed)
            queries.add(len(captured.captured_queries))
    p95 = statistics.quantiles(timings, n=20)[-1]
    return p95, statistics.median(timings), sorted(queries)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--skip-full-export", action="store_true")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-payments-"))
    stop = None
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        os.environ["DATABASE_URL"], stop = start_postgres(tmp, "-c shared_buffers=256MB -c fsync=off")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("VAR_DIR", str(tmp / "var"))
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client
        from django.urls import reverse

        from payments.models import Payment

        call_command("migrate", verbosity=0)
        user, merchants = load(args.rows, args.small)
        client = Client()
        client.force_login(user)

        results = {}
        for slug, merchant in merchants.items():
            ids = Payment.objects.filter(merchant=merchant).order_by("-id").values_list("id", flat=True)
            count = args.rows if slug == "big" else args.small
            deep_cursor = ids[int(count * 0.9)]
            base = reverse("payment_list", kwargs={"merchant_slug": merchant.slug})
            export = reverse("payment_export", kwargs={"merchant_slug": merchant.slug})
            results[slug] = {
                "page 1": measure(client, base, args.requests),
                "deep page": measure(client, f"{base}?after={deep_cursor}", args.requests),
                "page 1, state=EXPIRED": measure(client, f"{base}?state=EXPIRED", args.requests),
                "CSV first chunk": measure(client, export, args.requests, stream_first_chunk=True),
            }

        print(f"\n{'request':<24}{'p95 big':>10}{'p95 small':>11}{'ratio':>8}{'median big/small':>20}   queries")
        for name in results["big"]:
            big, small = results["big"][name], results["small"][name]
            print(
                f"{name:<24}{big[0]:>8.1f}ms{small[0]:>9.1f}ms{big[0] / small[0]:>8.2f}"
                f"{big[1]:>11.1f}/{small[1]:.1f}ms   {big[2]} / {small[2]}"
            )

        if not args.skip_full_export:
            export = reverse("payment_export", kwargs={"merchant_slug": "big"})
            started = time.perf_counter()
            response = client.get(export)
            size = lines = 0
            for chunk in response.streaming_content:
                size += len(chunk)
                lines += chunk.count(b"\n")
            elapsed = time.perf_counter() - started
            print(
                f"\nfull CSV export of big: {lines - 1:,} rows, {size / 1e6:.1f} MB in {elapsed:.1f} s "
                f"({(lines - 1) / elapsed:,.0f} rows/s)"
            )
    finally:
        if stop is not None:
            stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

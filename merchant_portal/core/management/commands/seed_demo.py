"""Create the demo merchant for `make run` (idempotent), a week of local history for it, and the sandbox's
matching credentials file."""

import json
import secrets
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from merchant_portal.core.demo_history import demo_history_seed
from merchant_portal.tenancy import services
from merchant_portal.tenancy.models import Currency, Environment, Market, Membership, Merchant, SalesUnit
from merchant_portal.tenancy.roles import Role
from qrcodes import services as qr_services

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "vipps-demo-2026"  # a local demo account on the embedded defaults only; see --password
DEMO_SALES_UNITS = [
    ("Demo Kiosk Oslo", "123456", Market.NORWAY, Currency.NOK),
    ("Demo Kiosk København", "654321", Market.DENMARK, Currency.DKK),
]
# Per sales unit: (location, address, QR codes, their description, category). Saved here; the sync task sends
# them to the sandbox.
DEMO_LOCATIONS = [
    ("Kiosk Torget", "Torget 1", 2, "Kiosk", "IN_STORE"),
    ("Automater Storgata", "Storgata 12", 4, "Automat", "VENDING"),
]


class Command(BaseCommand):
    help = "Create (or reuse) the demo merchant and login, and write the sandbox's credentials file."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEMO_PASSWORD)
        parser.add_argument(
            "--sandbox-seed",
            default=str(settings.VAR_DIR / "sandbox-seed.json"),
            help="Where to write the sandbox merchants file (credentials the sandbox accepts).",
        )
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="Do not add the week of demo check-ins and payments (only added while the merchant has none).",
        )

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"email": "demo@example.com", "first_name": "Demo"}
        )
        if created:
            user.set_password(options["password"])
            user.save()
        merchant = Merchant.objects.filter(slug="demo").first()
        if merchant is None:
            merchant = services.merchant_create(name="Demo Kiosk AS", slug="demo", owner=user)
        Membership.objects.get_or_create(user=user, merchant=merchant, defaults={"role": Role.OWNER})

        sandbox_merchants = []
        for name, msn, market, currency in DEMO_SALES_UNITS:
            unit = SalesUnit.objects.filter(environment=Environment.SANDBOX, msn=msn).first()
            if unit is None:
                # Fresh random keys per installation: no secret lives in the repository.
                unit = services.sales_unit_create(
                    merchant=merchant,
                    actor=None,
                    name=name,
                    msn=msn,
                    market=market,
                    currency=currency,
                    environment=Environment.SANDBOX,
                    client_id=str(uuid.uuid4()),
                    client_secret=secrets.token_urlsafe(32),
                    subscription_key=secrets.token_hex(16),
                )
            _seed_locations(unit)
            sandbox_merchants.append(
                {
                    "msn": unit.msn,
                    "name": unit.name,
                    "client_id": unit.client_id,
                    "client_secret": unit.client_secret,
                    "subscription_key": unit.subscription_key,
                    "currency": unit.currency,
                }
            )

        if not options["no_history"]:
            counts = demo_history_seed(merchant=merchant, staff=user)
            if counts:
                self.stdout.write(
                    f"Demo history: {counts['check_ins']} check-ins, {counts['payments']} payments and "
                    f"{counts['operations']} captures, refunds and cancels over the last week (local only)."
                )

        seed_path = Path(options["sandbox_seed"])
        seed_path.parent.mkdir(parents=True, exist_ok=True)
        seed_path.write_text(json.dumps({"merchants": sandbox_merchants}, indent=2))
        seed_path.chmod(0o600)

        password = options["password"] if user.check_password(options["password"]) else "(the one you set)"
        self.stdout.write(
            self.style.SUCCESS(
                f"\nDemo merchant ready: open {settings.PUBLIC_BASE_URL}/ and log in as "
                f"'{DEMO_USERNAME}' with password '{password}'.\n"
            )
        )


def _seed_locations(unit: SalesUnit) -> None:
    if unit.locations.exists():
        return
    for name, address, count, description, category in DEMO_LOCATIONS:
        location = qr_services.location_create(sales_unit=unit, actor=None, name=name, address=address)
        qr_services.qr_codes_bulk_create(
            location=location, actor=None, count=count, description=description, category=category
        )

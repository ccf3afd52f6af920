import uuid
from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from merchant_portal.tenancy.models import Currency, Environment, Market, Membership, Merchant, SalesUnit
from merchant_portal.tenancy.roles import Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"Merchant {n}")
    slug = factory.Sequence(lambda n: f"merchant-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)
    role = Role.VIEWER


class SalesUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesUnit

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Shop {n}")
    msn = factory.Sequence(lambda n: f"{100000 + n}")
    market = Market.NORWAY
    currency = Currency.NOK
    environment = Environment.SANDBOX
    client_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    client_secret = factory.LazyFunction(lambda: f"secret-{uuid.uuid4().hex}")
    subscription_key = factory.LazyFunction(lambda: f"subkey-{uuid.uuid4().hex}")


# Locations, QR codes, check-ins, payments and webhook rows, made directly (no Vipps) ------------------------------


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "qrcodes.Location"

    sales_unit = factory.SubFactory(SalesUnitFactory)
    name = factory.Sequence(lambda n: f"Location {n}")


class QrCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "qrcodes.QrCode"

    location = factory.SubFactory(LocationFactory)
    sales_unit = factory.SelfAttribute("location.sales_unit")
    merchant_qr_id = factory.Sequence(lambda n: f"qr-{n:03d}")
    location_description = factory.LazyAttribute(lambda qr: qr.location.name[:36])


class CheckInFactory(factory.django.DjangoModelFactory):
    """A check-in at `qr_code` (or at `location` without one, as from a MobilePay PoS), initiated `initiated_at`."""

    class Meta:
        model = "payments.CheckIn"

    qr_code = None
    location = factory.LazyAttribute(lambda c: c.qr_code.location if c.qr_code else LocationFactory())
    sales_unit = factory.SelfAttribute("location.sales_unit")
    merchant_qr_id = factory.LazyAttribute(lambda c: c.qr_code.merchant_qr_id if c.qr_code else "")
    customer_token = factory.LazyFunction(lambda: f"token-{uuid.uuid4().hex}")
    token_digest = factory.LazyFunction(lambda: uuid.uuid4().hex)
    initiated_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda c: c.initiated_at + timedelta(minutes=15))


class PaymentFactory(factory.django.DjangoModelFactory):
    """A payment as Vipps last confirmed it; from `checkin` (its location and sales unit) or, without one, asked of
    a phone number at `sales_unit`."""

    class Meta:
        model = "payments.Payment"

    checkin = None
    sales_unit = factory.LazyAttribute(lambda p: p.checkin.sales_unit if p.checkin else SalesUnitFactory())
    merchant = factory.SelfAttribute("sales_unit.merchant")
    location = factory.LazyAttribute(lambda p: p.checkin.location if p.checkin else None)
    reference = factory.LazyAttribute(lambda p: f"{p.sales_unit.msn}-{uuid.uuid4().hex[:12]}")
    idempotency_key = factory.LazyFunction(lambda: uuid.uuid4().hex)
    currency = factory.SelfAttribute("sales_unit.currency")
    amount = 10_000
    description = "Coffee"
    customer_label = factory.LazyAttribute(lambda p: "check-in" if p.checkin else "+47 9•• •• 567")
    sending = "sent"
    created_at = factory.LazyFunction(timezone.now)


class WebhookEventFactory(factory.django.DjangoModelFactory):
    """A filed webhook event; `received_at` is set after the insert (the field is auto_now_add)."""

    class Meta:
        model = "webhooks_app.WebhookEvent"
        skip_postgeneration_save = True

    sales_unit = factory.SubFactory(SalesUnitFactory)
    event_type = "user.checked-in.v1"
    dedupe_key = factory.LazyFunction(lambda: uuid.uuid4().hex)
    payload = factory.LazyFunction(dict)
    body = "{}"
    status = "processed"

    @factory.post_generation
    def received_at(obj, create, extracted, **kwargs):
        if extracted is not None:
            type(obj).objects.filter(pk=obj.pk).update(received_at=extracted)
            obj.received_at = extracted

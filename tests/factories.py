import uuid

import factory
from django.contrib.auth import get_user_model

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

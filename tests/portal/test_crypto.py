import logging

import pytest
from cryptography.fernet import Fernet
from django.core import serializers
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from merchant_portal.core import crypto
from merchant_portal.tenancy.models import SalesUnit
from tests.factories import SalesUnitFactory


def raw_columns(unit_id: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret, subscription_key FROM tenancy_salesunit WHERE id = %s", [unit_id])
        return cursor.fetchone()


def test_secrets_are_encrypted_at_rest_and_readable_in_python(db):
    unit = SalesUnitFactory(client_secret="very-secret-value", subscription_key="sub-key-123456")
    raw_secret, raw_key = raw_columns(unit.pk)
    assert "very-secret-value" not in raw_secret and "sub-key-123456" not in raw_key
    assert raw_secret.startswith("gAAAA")  # a Fernet token
    fresh = SalesUnit.objects.get(pk=unit.pk)
    assert fresh.client_secret == "very-secret-value" and fresh.subscription_key == "sub-key-123456"


def test_key_rotation_keeps_old_rows_readable(db, settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    unit = SalesUnitFactory(client_secret="rotate-me")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]
    assert SalesUnit.objects.get(pk=unit.pk).client_secret == "rotate-me"
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured):
        SalesUnit.objects.get(pk=unit.pk)


def test_a_bad_key_is_a_clear_configuration_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        crypto.encrypt("x")


def test_secrets_never_appear_in_serialized_fixtures_or_repr(db):
    unit = SalesUnitFactory(client_secret="fixture-leak-check", subscription_key="subkey-leak-check")
    dumped = serializers.serialize("json", SalesUnit.objects.all())
    assert "fixture-leak-check" not in dumped and "subkey-leak-check" not in dumped
    assert "leak-check" not in repr(unit) and "leak-check" not in str(unit)


def test_mask_secret_shows_only_the_tail():
    assert crypto.mask_secret("abcdefghijklmnop") == "••••••••mnop"
    assert crypto.mask_secret("short") == "••••••••"
    assert crypto.mask_secret("") == ""


def test_saving_a_sales_unit_logs_no_secret(db, caplog):
    caplog.set_level(logging.DEBUG)
    SalesUnitFactory(client_secret="log-leak-secret", subscription_key="log-leak-subkey")
    assert "log-leak" not in caplog.text

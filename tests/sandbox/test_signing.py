"""Webhook signing (CONTRACTS §3.4): Vipps' official test vector and the worked example."""

from __future__ import annotations

import base64
import hashlib
import hmac

from vipps_sandbox import signing

OFFICIAL_SECRET = "A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A=="
OFFICIAL_URL = "https://webhook.site/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63"
OFFICIAL_DATE = "Thu, 30 Mar 2023 08:38:32 GMT"
OFFICIAL_BODY = b'{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}'

EXAMPLE_BODY = (
    b'{"msn":"123456","reference":"acme-order-10042","pspReference":"7686f7788898767977","name":"AUTHORIZED",'
    b'"amount":{"currency":"NOK","value":49900},"timestamp":"2025-01-14T10:14:59.512Z",'
    b'"idempotencyKey":"e2b3f1c2-1d3a-4d8b-9b7e-2f4c6a8d0e11","success":true}'
)


def test_official_test_vector() -> None:
    result = signing.sign(OFFICIAL_SECRET, OFFICIAL_URL, OFFICIAL_BODY, OFFICIAL_DATE)
    assert result.content_hash == "lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4="
    assert result.signature == "agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U="
    assert result.host == "webhook.site"
    assert result.path_and_query == "/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63"


def test_secret_is_used_as_utf8_text_not_base64_decoded() -> None:
    # The Azure variant (base64-decoded key) gives the documented wrong answer.
    hashed = signing.content_hash(OFFICIAL_BODY)
    to_sign = signing.string_to_sign("/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63", OFFICIAL_DATE, "webhook.site", hashed)
    wrong = base64.b64encode(hmac.new(base64.b64decode(OFFICIAL_SECRET), to_sign.encode(), hashlib.sha256).digest())
    assert wrong.decode() == "T3+NXHMmhNVEjW5PeJ4Gql70nf0MOXCAY9CoZDxuVQw="
    assert signing.sign(OFFICIAL_SECRET, OFFICIAL_URL, OFFICIAL_BODY, OFFICIAL_DATE).signature != wrong.decode()


def test_worked_example_from_contracts() -> None:
    assert len(EXAMPLE_BODY) == 255
    assert hashlib.sha256(EXAMPLE_BODY).hexdigest() == (
        "2c035839c09140900ef75588cb711b5e911c5c7b0ed44ccd66dd236668ac2af2"
    )
    result = signing.sign(
        "090a478d-37ff-4e77-970e-d457aeb26a3a",
        "https://shop.example.no/vipps/webhooks/?src=vipps",
        EXAMPLE_BODY,
        "Tue, 14 Jan 2025 10:15:00 GMT",
    )
    assert result.content_hash == "LANYOcCRQJAO91WIy3EbXpEcXHsO1EzNZt0jZmisKvI="
    assert result.string_to_sign == (
        "POST\n/vipps/webhooks/?src=vipps\n"
        "Tue, 14 Jan 2025 10:15:00 GMT;shop.example.no;LANYOcCRQJAO91WIy3EbXpEcXHsO1EzNZt0jZmisKvI="
    )
    assert result.signature == "IfuKSRW2jYSJVmOsuTLXx6i2k73EABMPcDwwnB0oBGU="
    assert result.authorization == (
        "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256"
        "&Signature=IfuKSRW2jYSJVmOsuTLXx6i2k73EABMPcDwwnB0oBGU="
    )
    assert result.headers() == {
        "Host": "shop.example.no",
        "x-ms-date": "Tue, 14 Jan 2025 10:15:00 GMT",
        "x-ms-content-sha256": "LANYOcCRQJAO91WIy3EbXpEcXHsO1EzNZt0jZmisKvI=",
        "Authorization": result.authorization,
    }


def test_host_keeps_only_non_default_ports() -> None:
    assert signing.url_parts("https://example.no:443/hook") == ("example.no", "/hook")
    assert signing.url_parts("http://example.no:80/hook?a=1&b=2") == ("example.no", "/hook?a=1&b=2")
    assert signing.url_parts("http://127.0.0.1:8000/vipps/webhooks/") == (
        "127.0.0.1:8000",
        "/vipps/webhooks/",
    )
    assert signing.url_parts("https://example.no") == ("example.no", "/")


def test_verify_accepts_own_signature_and_rejects_tampering() -> None:
    url = "http://127.0.0.1:8000/hook"
    headers = signing.sign("s3cret", url, b'{"a":1}', signing.http_date()).headers()
    assert signing.verify("s3cret", url, b'{"a":1}', headers)
    assert not signing.verify("s3cret", url, b'{"a":2}', headers)
    assert not signing.verify("other", url, b'{"a":1}', headers)


def test_http_date_is_rfc1123() -> None:
    from datetime import UTC, datetime

    assert signing.http_date(datetime(2023, 3, 30, 8, 38, 32, 123456, tzinfo=UTC)) == OFFICIAL_DATE

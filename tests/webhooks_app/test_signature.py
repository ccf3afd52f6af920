"""The portal's own verifier against Vipps' official test vector and the worked example of CONTRACTS.md §3.4."""

import pytest

from webhooks_app.signature import SignatureError, body_hash, expected_authorization, url_host_and_path, verify

VECTOR_SECRET = "A0+AeKBRG2KRGvnNwJpQlb6IJFk48CKXCIcrLoHncVJKDILsQSxS6NWCccwWm6r6FhGKhiHTBsG2wo/xU6FY/A=="
VECTOR_URL = "https://webhook.site/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63"
VECTOR_DATE = "Thu, 30 Mar 2023 08:38:32 GMT"
VECTOR_BODY = b'{"some-unique-content":"ee6e441b-cc4a-46f8-895d-a5af79bcc233/hello-world"}'
VECTOR_SIGNATURE = "agAiSyogQbDHpeucoNwYz+yAr5nJ+v+zasdkSbqzv+U="


def vector_headers(**changes):
    headers = {
        "x-ms-date": VECTOR_DATE,
        "x-ms-content-sha256": "lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4=",
        "authorization": f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={VECTOR_SIGNATURE}",
    }
    return headers | changes


def test_the_official_test_vector_verifies():
    assert body_hash(VECTOR_BODY) == "lNlsp1XA03N34HrQsVzPgJKtC+r7l/RBF4V3JQUWMj4="
    expected = expected_authorization(
        secret=VECTOR_SECRET, url=VECTOR_URL, body_hash_b64=body_hash(VECTOR_BODY), x_ms_date=VECTOR_DATE
    )
    assert expected.endswith(f"&Signature={VECTOR_SIGNATURE}")
    assert verify(url=VECTOR_URL, body=VECTOR_BODY, headers=vector_headers(), candidates=[("k", VECTOR_SECRET)]) == "k"


def test_the_worked_example_with_a_query_string_verifies():
    body = (
        b'{"msn":"123456","reference":"acme-order-10042","pspReference":"7686f7788898767977","name":"AUTHORIZED",'
        b'"amount":{"currency":"NOK","value":49900},"timestamp":"2025-01-14T10:14:59.512Z",'
        b'"idempotencyKey":"e2b3f1c2-1d3a-4d8b-9b7e-2f4c6a8d0e11","success":true}'
    )
    authorization = expected_authorization(
        secret="090a478d-37ff-4e77-970e-d457aeb26a3a",
        url="https://shop.example.no/vipps/webhooks/?src=vipps",
        body_hash_b64=body_hash(body),
        x_ms_date="Tue, 14 Jan 2025 10:15:00 GMT",
    )
    assert authorization.endswith("Signature=IfuKSRW2jYSJVmOsuTLXx6i2k73EABMPcDwwnB0oBGU=")


def test_the_host_keeps_only_a_non_default_port():
    assert url_host_and_path("https://portal.example.no:443/hooks/vipps/") == ("portal.example.no", "/hooks/vipps/")
    assert url_host_and_path("http://127.0.0.1:8000/hooks/vipps/") == ("127.0.0.1:8000", "/hooks/vipps/")


def test_the_base64_decoded_key_of_azures_variant_is_not_accepted():
    wrong = "T3+NXHMmhNVEjW5PeJ4Gql70nf0MOXCAY9CoZDxuVQw="
    headers = vector_headers(
        authorization=f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={wrong}"
    )
    with pytest.raises(SignatureError):
        verify(url=VECTOR_URL, body=VECTOR_BODY, headers=headers, candidates=[("k", VECTOR_SECRET)])


def test_each_candidate_secret_is_tried_so_a_rotated_secret_still_verifies():
    found = verify(
        url=VECTOR_URL, body=VECTOR_BODY, headers=vector_headers(), candidates=[("old", "nope"), ("new", VECTOR_SECRET)]
    )
    assert found == "new"


@pytest.mark.parametrize(
    "headers, url",
    [
        (vector_headers(**{"x-ms-date": "Thu, 30 Mar 2023 08:38:33 GMT"}), VECTOR_URL),
        (vector_headers(**{"x-ms-content-sha256": "AAAA"}), VECTOR_URL),
        (vector_headers(), "https://webhook.site/another-path"),
        (vector_headers(), "https://evil.example/e2cee29b-012e-4f1d-8ef4-e95fd74a7a63"),
        ({"x-ms-date": VECTOR_DATE}, VECTOR_URL),
    ],
    ids=["date", "content-hash", "path", "host", "missing"],
)
def test_any_change_to_a_signed_part_is_refused(headers, url):
    with pytest.raises(SignatureError):
        verify(url=url, body=VECTOR_BODY, headers=headers, candidates=[("k", VECTOR_SECRET)])


def test_the_verifier_compares_in_constant_time():
    import inspect

    from webhooks_app import signature

    source = inspect.getsource(signature)
    assert "compare_digest" in source and "==" not in source.split("def verify", 1)[1]

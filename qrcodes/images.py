"""Fetching the official QR images behind `qrImageUrl` (public links: no authentication, CONTRACTS §5.1)."""

from urllib.parse import urlsplit

import requests
from django.conf import settings

from merchant_portal.tenancy.models import Environment
from merchant_portal.tenancy.vipps import portal_environment
from vipps import VippsError

MAX_IMAGE_BYTES = 2 * 1024 * 1024
CONTENT_TYPES = {"SVG": "image/svg+xml", "PNG": "image/png"}


class ImageFetchError(VippsError):
    """The image link did not give an image; asking Vipps for the QR again gives a fresh link."""

    retryable = True


def fetch_image(url: str, image_format: str) -> bytes:
    scheme = urlsplit(url).scheme
    # Plain http only for the local sandbox; a real Vipps link is https.
    if scheme != "https" and not (scheme == "http" and portal_environment() == Environment.SANDBOX):
        raise ImageFetchError(f"refusing to fetch a QR image over {scheme or 'no scheme'}")
    try:
        with requests.get(
            url, timeout=(settings.VIPPS_CONNECT_TIMEOUT, settings.VIPPS_READ_TIMEOUT), stream=True
        ) as response:
            if response.status_code != 200:
                raise ImageFetchError(f"the QR image link answered HTTP {response.status_code}")
            content = response.raw.read(MAX_IMAGE_BYTES + 1, decode_content=True)
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    except requests.RequestException as exc:
        raise ImageFetchError(f"could not fetch the QR image: {type(exc).__name__}") from None
    if len(content) > MAX_IMAGE_BYTES:
        raise ImageFetchError("the QR image is larger than 2 MB")
    expected = CONTENT_TYPES[image_format]
    if content_type != expected and not _looks_like(content, image_format):
        raise ImageFetchError(f"expected {expected}, got {content_type or 'no content type'}")
    return content


def _looks_like(content: bytes, image_format: str) -> bool:
    if image_format == "PNG":
        return content.startswith(b"\x89PNG\r\n\x1a\n")
    return b"<svg" in content[:1024]

"""The portal against the in-process Vipps sandbox, over real HTTP on loopback."""

import pytest

from vipps_sandbox.server import SandboxServer, fast_config


@pytest.fixture
def sandbox(settings):
    with SandboxServer(config=fast_config()) as server:
        settings.VIPPS_BASE_URL = server.url
        yield server


@pytest.fixture
def sandbox_unit(sandbox, acme_unit):
    """acme's sales unit, known to the sandbox with the same keys."""
    sandbox.register_merchant(
        msn=acme_unit.msn,
        client_id=acme_unit.client_id,
        client_secret=acme_unit.client_secret,
        subscription_key=acme_unit.subscription_key,
        currency=acme_unit.currency,
    )
    return acme_unit

import json

from django.contrib.auth import get_user_model
from django.core.management import call_command

from merchant_portal.tenancy.models import Membership, Merchant, SalesUnit
from merchant_portal.tenancy.roles import Role


def test_seed_demo_is_idempotent_and_tells_the_sandbox_the_same_keys(db, tmp_path, capsys):
    seed = tmp_path / "sandbox.json"
    call_command("seed_demo", sandbox_seed=str(seed))
    first = json.loads(seed.read_text())
    call_command("seed_demo", sandbox_seed=str(seed))
    second = json.loads(seed.read_text())

    assert Merchant.objects.count() == 1 and SalesUnit.objects.count() == 2
    user = get_user_model().objects.get(username="demo")
    assert Membership.objects.get(user=user).role == Role.OWNER
    assert first == second
    units = {u.msn: u for u in SalesUnit.objects.all()}
    for entry in first["merchants"]:
        unit = units[entry["msn"]]
        assert (entry["client_id"], entry["client_secret"], entry["subscription_key"], entry["currency"]) == (
            unit.client_id,
            unit.client_secret,
            unit.subscription_key,
            unit.currency,
        )
    assert {u.currency for u in units.values()} == {"NOK", "DKK"}
    assert "log in as 'demo' with password 'vipps-demo-2026'" in capsys.readouterr().out
    assert oct(seed.stat().st_mode)[-3:] == "600"

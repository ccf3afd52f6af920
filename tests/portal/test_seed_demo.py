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


def test_create_merchant_command_makes_an_owner_with_a_set_password_link(db, capsys):
    call_command("create_merchant", "Fjord Vending AS", owner="Owner@Fjord.no")
    out = capsys.readouterr().out
    merchant = Merchant.objects.get(name="Fjord Vending AS")
    owner = get_user_model().objects.get(email="owner@fjord.no")
    assert Membership.objects.get(merchant=merchant, user=owner).role == Role.OWNER
    assert f"/m/{merchant.slug}/" in out and "/accounts/set-password/" in out
    assert not owner.has_usable_password()

from django.core.management import call_command

from qrcodes.models import Location, QrCode


def test_the_demo_merchant_gets_locations_with_codes_per_sales_unit_once(
    db, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as enqueued:
        call_command("seed_demo", sandbox_seed=str(tmp_path / "seed.json"))
    call_command("seed_demo", sandbox_seed=str(tmp_path / "seed.json"))
    assert Location.objects.count() == 4 and QrCode.objects.count() == 12
    syncs = [
        cb for cb in enqueued if getattr(cb.func, "__self__", None) and cb.func.__self__.name.endswith("sync_qr_code")
    ]
    assert len(syncs) == 12  # each is sent to the sandbox by the sync task
    vending = QrCode.objects.filter(category="VENDING", sales_unit__msn="123456").order_by("merchant_qr_id")
    assert [c.merchant_qr_id for c in vending][:2] == ["automater-storgata-001", "automater-storgata-002"]
    assert vending[0].location_description == "Automat 1"

import re

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet

from merchant_portal.tenancy.models import Merchant, SalesUnit

from .models import Location, QrCode, QrImage, QrSheet, Reconciliation

_NORDIC = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "Ae", "Ø": "O", "Å": "A", "ä": "a", "ö": "o"})
ID_PREFIX_MAX = 28  # leaves room for "-" and a sequence number within Vipps' safe 36 characters


def locations_for_merchant(*, merchant) -> QuerySet[Location]:
    return (
        Location.objects.for_merchant(merchant)
        .select_related("sales_unit")
        .annotate(code_count=Count("qr_codes"))
        .order_by("sales_unit__name", "name")
    )


def locations_for_sales_unit(*, sales_unit: SalesUnit) -> QuerySet[Location]:
    return Location.objects.filter(sales_unit=sales_unit).order_by("name")


def qr_codes_for_location(*, location: Location) -> QuerySet[QrCode]:
    """With each code's screen PNG as `png_images` (inlined in the page: one request instead of one per code)."""
    pngs = QrImage.objects.filter(format=QrImage.Format.PNG)
    return location.qr_codes.select_related("sales_unit").prefetch_related(
        Prefetch("images", queryset=pngs, to_attr="png_images")
    )


def qr_codes_awaiting_vipps(queryset: QuerySet[QrCode]) -> bool:
    return queryset.filter(
        sync_state__in=[QrCode.SyncState.PENDING, QrCode.SyncState.DELETING], quarantined_at__isnull=True
    ).exists()


def qr_codes_sync_progress(*, location: Location) -> dict[str, int]:
    """How many of a location's codes Vipps has confirmed: `synced` of `total` (codes being deleted not counted)."""
    return location.qr_codes.exclude(sync_state=QrCode.SyncState.DELETING).aggregate(
        total=Count("pk"), synced=Count("pk", filter=Q(sync_state=QrCode.SyncState.SYNCED))
    )


def qr_codes_quarantined_count() -> int:
    """For /healthz: codes whose sync stopped on an error inside the portal, in the whole installation."""
    return QrCode.objects.filter(quarantined_at__isnull=False).count()


def qr_codes_for_sheet(*, sales_unit: SalesUnit, location: Location | None = None) -> QuerySet[QrCode]:
    """What a sheet prints: codes Vipps has confirmed, as Vipps has them (synced and not missing there)."""
    codes = QrCode.objects.filter(
        sales_unit=sales_unit, sync_state=QrCode.SyncState.SYNCED, missing_at_vipps=False
    ).exclude(qr_content="")
    if location is not None:
        codes = codes.filter(location=location)
    return codes.select_related("location").order_by("location__name", "merchant_qr_id")


def svg_images_for(codes: QuerySet[QrCode]) -> dict[int, QrImage]:
    """The cached SVG of each code, if it is still the image of the code's current content."""
    images = QrImage.objects.filter(qr_code__in=codes, format=QrImage.Format.SVG)
    by_code = {}
    contents = dict(codes.values_list("pk", "qr_content"))
    for image in images:
        if contents.get(image.qr_code_id) == image.qr_content:
            by_code[image.qr_code_id] = image
    return by_code


def next_merchant_qr_ids(*, sales_unit: SalesUnit, name: str, count: int = 1) -> list[tuple[str, int]]:
    """Readable ids `<name-as-slug>-<nnn>` continuing the sequence already used for that slug in this MSN."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name.translate(_NORDIC)).strip("-").lower()[:ID_PREFIX_MAX].strip("-")
    slug = slug or "qr"
    pattern = re.compile(rf"^{re.escape(slug)}-(\d+)$")
    used = QrCode.objects.filter(sales_unit=sales_unit, merchant_qr_id__startswith=f"{slug}-").values_list(
        "merchant_qr_id", flat=True
    )
    last = max((int(m.group(1)) for m in map(pattern.match, used) if m), default=0)
    return [(f"{slug}-{n:03d}", n) for n in range(last + 1, last + 1 + count)]


def latest_reconciliation(*, sales_unit: SalesUnit) -> Reconciliation | None:
    return Reconciliation.objects.filter(sales_unit=sales_unit).first()


def qr_codes_needing_attention(*, sales_unit: SalesUnit) -> QuerySet[QrCode]:
    """Codes the last reconcile flagged (missing at Vipps, different there) or imported from Vipps."""
    return (
        QrCode.objects.filter(sales_unit=sales_unit)
        .filter(
            Q(missing_at_vipps=True)
            | Q(imported=True)
            | Q(sync_state=QrCode.SyncState.SYNCED)
            & (
                Q(remote_description__isnull=False) & ~Q(remote_description=F("location_description"))
                | Q(remote_category__isnull=False) & ~Q(remote_category=F("category"))
            )
        )
        .select_related("location")
    )


def recent_sheets(*, sales_unit: SalesUnit, location: Location | None = None) -> QuerySet[QrSheet]:
    return QrSheet.objects.filter(sales_unit=sales_unit, location=location).defer("pdf")[:5]


def qr_setup_for_merchant(*, merchant) -> dict[str, bool]:
    """Whether the merchant has any location and any QR code yet (one query; the dashboard's next steps)."""
    flags = (
        Merchant.objects.filter(pk=merchant.pk)
        .annotate(
            has_locations=Exists(Location.objects.filter(sales_unit__merchant=OuterRef("pk"))),
            has_qr_codes=Exists(QrCode.objects.filter(sales_unit__merchant=OuterRef("pk"))),
        )
        .values("has_locations", "has_qr_codes")
        .first()
    )
    return flags or {"has_locations": False, "has_qr_codes": False}

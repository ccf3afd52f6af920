from django.contrib import admin

from .models import Membership, Merchant, SalesUnit


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(SalesUnit)
class SalesUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "msn", "merchant", "environment", "currency"]
    list_filter = ["environment", "market"]
    search_fields = ["name", "msn"]
    # Secrets are managed by the merchant's owners in the portal, never shown here.
    exclude = ["client_secret", "subscription_key"]
    readonly_fields = ["client_secret_masked", "subscription_key_masked"]

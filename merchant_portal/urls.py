from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from merchant_portal.audit.views import AuditLogView
from merchant_portal.core.views import healthz
from merchant_portal.tenancy import views as tenancy_views
from merchant_portal.tenancy.forms import LoginForm

merchant_patterns = [
    path("", include("merchant_portal.tenancy.urls")),
    path("", include("qrcodes.urls")),
    path("", include("payments.urls")),
    path("", include("webhooks_app.urls")),
    path("", include("merchant_portal.api.ui_urls")),
    path("audit/", AuditLogView.as_view(), name="audit_log"),
]

urlpatterns = [
    path("", tenancy_views.home, name="home"),
    path("merchants/", tenancy_views.merchant_switch, name="merchant_switch"),
    path("language/", tenancy_views.language_set, name="language_set"),
    path("m/<slug:merchant_slug>/", include(merchant_patterns)),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LoginForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path(
        "accounts/set-password/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/set-password/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("hooks/", include("webhooks_app.public_urls")),
    path("api/", include("merchant_portal.api.urls")),
    path("healthz", healthz, name="healthz"),
    # Browsers and feed readers ask for /favicon.ico whatever the page links.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.ico"), permanent=True), name="favicon"),
    path("admin/", admin.site.urls),
]

from django.urls import path

from . import views

# Mounted under /m/<merchant_slug>/ by merchant_portal.urls: every view here goes through MerchantMixin.
urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/live/", views.DashboardLiveView.as_view(), name="dashboard_live"),
    path("sales-units/", views.SalesUnitListView.as_view(), name="sales_unit_list"),
    path("sales-units/new/", views.SalesUnitCreateView.as_view(), name="sales_unit_create"),
    path("sales-units/<int:pk>/", views.SalesUnitDetailView.as_view(), name="sales_unit_detail"),
    path("sales-units/<int:pk>/edit/", views.SalesUnitUpdateView.as_view(), name="sales_unit_update"),
    path("sales-units/<int:pk>/delete/", views.SalesUnitDeleteView.as_view(), name="sales_unit_delete"),
    path(
        "sales-units/<int:pk>/test-connection/",
        views.SalesUnitTestConnectionView.as_view(),
        name="sales_unit_test_connection",
    ),
    path("sales-units/<int:pk>/calls/", views.SalesUnitCallLogView.as_view(), name="sales_unit_calls"),
    path("members/", views.MemberListView.as_view(), name="member_list"),
    path("members/add/", views.MemberAddView.as_view(), name="member_add"),
    path("members/<int:pk>/", views.MemberEditView.as_view(), name="member_edit"),
]

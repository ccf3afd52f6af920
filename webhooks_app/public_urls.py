# Endpoints that Vipps and MobilePay call (no login; authenticated by signature), mounted under /hooks/.
urlpatterns = []

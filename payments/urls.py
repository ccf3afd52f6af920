# Merchant pages of this app, mounted under /m/<merchant_slug>/ by merchant_portal.urls.
urlpatterns = []

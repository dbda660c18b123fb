from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Backorder Desk administration"
admin.site.site_title = "Backorder Desk admin"

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("desk.urls")),
]

from django.contrib import admin
from django.urls import include, path

from config import views

admin.site.site_header = "Backorder Desk administration"
admin.site.site_title = "Backorder Desk admin"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("orders.urls")),
    path("", include("notifications.urls")),
]

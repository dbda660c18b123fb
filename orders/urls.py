from django.urls import URLPattern, URLResolver, path

from orders import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("queue/", views.queue, name="queue"),
    path("queue/export.csv", views.queue_export, name="queue-export"),
]

from django.urls import path

from notifications import views

urlpatterns = [
    path("c/<str:token>/", views.customer_link, name="customer-link"),
]

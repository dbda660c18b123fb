from django.urls import path

from api.hooks import views

urlpatterns = [
    path("shopify/<slug:key>/", views.shopify_hook, name="hook-shopify"),
    path("woocommerce/<slug:key>/", views.woocommerce_hook, name="hook-woocommerce"),
]

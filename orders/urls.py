from django.urls import URLPattern, URLResolver, path

from orders import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("queue/", views.queue, name="queue"),
    path("queue/export.csv", views.queue_export, name="queue-export"),
    path("receiving/", views.receiving, name="receiving"),
    path(
        "purchase-orders/<str:number>/receive/",
        views.purchase_order_receive,
        name="purchase-order-receive",
    ),
    path("purchase-orders/", views.purchase_orders, name="purchase-orders"),
    path("purchase-orders/<str:number>/", views.purchase_order, name="purchase-order"),
    path("shipping/", views.shipping, name="shipping"),
    path("products/<str:sku>/", views.product, name="product"),
    path("orders/<str:number>/", views.order, name="order"),
    path("customers/<int:customer_id>/", views.customer, name="customer"),
]

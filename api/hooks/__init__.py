"""Shop platforms' webhooks in: Shopify and WooCommerce orders, verified on the
raw body, stored, answered 200, then processed by a task (store-then-process)."""

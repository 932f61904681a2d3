from __future__ import annotations

from ninja import Router

router = Router(tags=["knowledge"])
# Mounted at /api/v1/customers (article views a customer already read).
customers_router = Router(tags=["customers"])

"""A workspace's own mapping of Kuaishou's order API, as a data team starts one: the file's head (its
status map) and the order's keys. Tests of mapping validation, value rules and `model check` build
their variants on it, each adding the fields its case is about."""

HEAD = """
platform = "kuaishou"
version = "1.0.0"

[maps.order_status]
vocabulary = "order_status"
[maps.order_status.codes]
"10" = "created"
"30" = "paid"
"""

ORDER_KEYS = """
[orders.fields]
platform_order_id = { path = "oid" }
status = { path = "status", map = "order_status" }
"""

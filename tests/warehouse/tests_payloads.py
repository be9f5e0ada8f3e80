"""Small native payloads of JD, Pinduoduo and Douyin shared by warehouse and engine tests."""

JD = {
    "orderId": "300100200",
    "orderState": "WAIT_SELLER_STOCK_OUT",
    "orderStartTime": "2026-11-01 10:00:00",
    "paymentConfirmTime": "2026-11-01 10:01:00",
    "modified": "2026-11-01 10:01:00",
    "orderPayment": "99.90",
    "orderTotalPrice": "109.90",
    "pin": "jd_buyer",
    "consigneeInfo": {
        "province": "北京",
        "city": "北京市",
        "county": "朝阳区",
        "mobile": "ef1:phone:s:BIDX1:c",
    },
    "itemInfoList": [
        {"skuId": "1001", "wareId": "2001", "skuName": "T恤", "jdPrice": "54.95", "itemTotal": "2"}
    ],
}
PDD = {
    "order_sn": "261101-123",
    "order_status": 1,
    "refund_status": 1,
    "created_time": "2026-11-01 12:00:00",
    "updated_at": "2026-11-01 12:00:00",
    "pay_time": "2026-11-01 12:00:05",
    "pay_amount": 19.9,
    "goods_amount": 29.9,
    "receiver_phone": "ef1:phone:subj:PHONEBIDX:ct",
    "item_list": [
        {"goods_id": 88, "sku_id": 99, "goods_count": 1, "goods_price": 29.9, "goods_name": "袜子"}
    ],
}
DOUYIN = {
    "order_id": 6920000000000000123,
    "order_status": 3,
    "main_status": 3,
    "create_time": 1761955200,
    "update_time": 1761958800,
    "pay_time": 1761955300,
    "order_amount": 12345,
    "pay_amount": 12000,
    "post_amount": 0,
    "doudian_open_id": "dy1",
    "sku_order_list": [
        {
            "sku_order_id": 6920000000000000124,
            "product_id": 3,
            "sku_id": 4,
            "item_num": 3,
            "origin_amount": 12345,
            "pay_amount": 12000,
            "spec": [{"name": "颜色", "value": "黑"}],
            "after_sale_info": {"refund_status": 0},
        }
    ],
}

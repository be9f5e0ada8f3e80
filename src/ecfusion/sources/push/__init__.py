"""Push collection (采集层 4.3.4, 5.1): a webhook receiver for platform order messages.

Verify the platform's signature, land durably, then acknowledge; redelivered messages are harmless.
"""

from ecfusion.sources.push.lander import Delivery, DeliveryOutcome, PushLander
from ecfusion.sources.push.messages import PushMessage, split_body
from ecfusion.sources.push.receiver import WebhookConnector, WebhookSourceConfig, create_app
from ecfusion.sources.push.signatures import PRESETS, SignatureScheme, compute_signature, verify_signature

__all__ = [
    "PRESETS",
    "Delivery",
    "DeliveryOutcome",
    "PushLander",
    "PushMessage",
    "SignatureScheme",
    "WebhookConnector",
    "WebhookSourceConfig",
    "compute_signature",
    "create_app",
    "split_body",
    "verify_signature",
]

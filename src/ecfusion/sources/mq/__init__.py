"""Message-queue collection (采集层 4.3.4, 5.1): order events from a broker, acked after landing.

``MessageBus`` is the broker seam; NATS JetStream (``NatsJetStreamBus``) and RabbitMQ
(``RabbitMqBus``) are implemented, chosen by ``bus =`` in the source's configuration. Kafka fits
the same seam (``MqSourceConfig`` lists the keys it would take) but has no adapter yet.
"""

from ecfusion.sources.mq.bus import BusMessage, MessageBus
from ecfusion.sources.mq.consumer import MqConnector, MqSourceConfig, consume, open_bus

__all__ = ["BusMessage", "MessageBus", "MqConnector", "MqSourceConfig", "consume", "open_bus"]

"""Message brokers events are published to (NATS JetStream)."""

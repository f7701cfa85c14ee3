"""National runs as partitioned work on Kafka: a run's cases in chunks, consumed by every casework replica."""

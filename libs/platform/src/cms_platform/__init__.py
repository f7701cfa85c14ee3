"""Plumbing every CMS service needs, and nothing domain-specific.

Modules: settings, clock, errors (domain errors, no gRPC), identity (caller tokens), logs and telemetry,
validation (generic request checks from proto annotations), server (gRPC server class), clients (channels
with deadlines, retries and identity), db and migrations, outbox (transactional outbox + relay),
consumer (idempotent Kafka consumer), idempotency (request-id replay), cloudevents (Kafka binary mode),
service (process lifecycle and CLI), devinfra (local broker and databases for `make run` and tests).
"""

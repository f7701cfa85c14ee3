"""What a production CMS service needs at run time, and nothing domain-specific or simulated.

- serving: server (the gRPC server class), errors and grpc_errors (domain errors → google.rpc.Status),
  validation (generic request checks from the contracts' annotations), identity (caller tokens), calls (what the
  current call is: its operation, deadline and request; whether it is running out of time), clients (outbound channels with deadlines and retries);
- state: settings, db and migrations, models (the platform's own tables), idempotency (request-id replay),
  conflicts (lost races in the database → ABORTED), paging (opaque page tokens), audit (the gateways' enquiry
  trail);
- events: outbox (transactional outbox and relay), consumer (idempotent consumer), cloudevents (Kafka binary
  mode), events (event types declared on the contracts);
- running: service (process lifecycle and CLI), scheduling (periodic jobs), telemetry, metrics, logs, clock;
- values: convert (proto ↔ plain values), identifiers (NINO and CRN rules).

The simulated systems live in cms_simulation and the dev/test tooling in cms_devkit; neither is imported here.
"""

"""The statutory calculation as pure functions over plain data: no gRPC, no SQL."""

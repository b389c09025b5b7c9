"""NATS: the connection, the embedded server, the relay, and projections run from the stream."""

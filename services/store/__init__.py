"""The event stores: one msgspec mapper for every application, their setup, and the raw read of
a store's notification log that the ledger, exports and replays use."""

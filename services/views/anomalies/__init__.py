"""The anomaly queue and the activity feed: the reducer (pure) and the view (SQL)."""

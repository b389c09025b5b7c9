"""The board: the reducer (pure) and the view (SQL) that it drives."""

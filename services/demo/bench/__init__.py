"""`lacak bench`: scans through the API, the board under load, replay and verify."""

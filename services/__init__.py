"""Lacak's services: domain decisions, the custody application, relay, projections, CLI."""

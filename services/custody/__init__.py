"""Custody: the decisions on batches, the Batches application, labels, the kit plan, master data
and the election record."""

"""Bawaslu's supervision on the record: findings and reports, and KPU's answers to them."""

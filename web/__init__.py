"""Lacak's web face: the Litestar app, its routes, templates and static files."""

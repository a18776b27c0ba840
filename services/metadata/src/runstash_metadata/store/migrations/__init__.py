"""Alembic migrations of the tracking schema (run programmatically by :mod:`..migrate`)."""

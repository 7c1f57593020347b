"""Alembic migrations of the service database: the only way its schema changes."""

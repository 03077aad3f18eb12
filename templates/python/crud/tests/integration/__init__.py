"""Tests against the real PostgreSQL database (pytest -m integration)."""

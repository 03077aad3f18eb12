"""Tests for {{app.title}}."""

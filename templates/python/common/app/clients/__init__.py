"""Clients for other OVU services (reached over HTTP, never through their databases)."""

"""Settings and shared infrastructure."""

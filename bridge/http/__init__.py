"""The daemon's HTTP surface: webhooks, health, metrics (and later the admin UI/API)."""

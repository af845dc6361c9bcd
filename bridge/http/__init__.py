"""The daemon's HTTP surface: webhooks, health, metrics; the admin UI/API is bridge.ui."""

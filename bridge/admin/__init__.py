"""Admin operations: one implementation each, called by the pages, the JSON API and the CLI."""

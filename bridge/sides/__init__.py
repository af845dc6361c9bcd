"""The async shell per outside system: read current state into snapshots, carry out
intents. Everything here is I/O; every decision lives in ``bridge.sync``."""

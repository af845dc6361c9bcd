"""The sync engine shell: gather snapshots → decide (pure) → commit one unit of work →
execute the outbox through the sides, turning every remote error into an outcome."""

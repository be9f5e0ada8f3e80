"""The control plane: checkpoints, runs, key metadata, review decisions (SQLAlchemy; SQLite by default)."""

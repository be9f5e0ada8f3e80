"""resolve layer (see ARCHITECTURE.md)."""

"""standardize layer (see ARCHITECTURE.md)."""

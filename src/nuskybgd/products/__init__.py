"""nuskybgd.products."""

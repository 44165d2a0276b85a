"""nuskybgd.geometry."""

"""nuskybgd.workflow."""

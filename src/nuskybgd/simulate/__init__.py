"""nuskybgd.simulate."""

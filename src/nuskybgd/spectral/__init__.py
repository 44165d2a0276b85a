"""nuskybgd.spectral."""

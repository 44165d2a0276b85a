"""File input and output: observation discovery, event files, OGIP spectra and responses."""

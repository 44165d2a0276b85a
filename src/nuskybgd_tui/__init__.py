"""nuskybgd_tui: the Textual wizard that guides a user through the nuskybgd workflow."""

"""Sub-commands of the ``nuskybgd`` command line, one module each (see ``nuskybgd.cli``)."""

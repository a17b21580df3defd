"""The ``meanfolio`` command's subcommands, one module each, and the helpers they share (``common``)."""

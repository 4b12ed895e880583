"""The command line: thin modules over the library, one per command group."""

"""`python -m server` is `tote`."""

from server.cli import main

main()

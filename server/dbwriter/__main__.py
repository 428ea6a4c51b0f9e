"""`python -m server.dbwriter ...`: the writer process (server/dbwriter/child.py)."""

import sys

from server.dbwriter.child import main

main(sys.argv[1:])

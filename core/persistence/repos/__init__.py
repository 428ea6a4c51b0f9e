"""One repository per aggregate: the only place SQL is built and run for core/service.

Each module's functions take the transaction's `Connection` (or `Session`) and return typed
records (dataclasses) or ORM models; fast statements are built once (core/persistence/direct.py)
inside the repository that owns them.
"""

"""The sandbox payment gateway and carrier: a real HTTP server with in-memory state."""

from .app import Sandbox, create_sandbox_app, run_sandbox_forever, start_sandbox
from .state import SandboxState

__all__ = ["Sandbox", "SandboxState", "create_sandbox_app", "run_sandbox_forever", "start_sandbox"]

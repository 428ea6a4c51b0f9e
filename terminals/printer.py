"""Where a packing station's labels go: a folder, a CUPS queue (`lp`), or a ZPL raw socket."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from tote.v1 import common_pb2


class PrinterError(Exception):
    """The label could not be handed to the printer."""


def _extension(label: common_pb2.Label) -> str:
    return "zpl" if label.format == common_pb2.LABEL_FORMAT_ZPL else "pdf"


class Printer:
    """`zpl:HOST:PORT` sends the label bytes to a raw socket, `lp:QUEUE` to a CUPS queue;
    anything else is a folder."""

    def __init__(self, target: str) -> None:
        self.target = target

    def print(self, label: common_pb2.Label) -> str:
        """Hand the label over; returns where it went."""
        try:
            if self.target.startswith("zpl:"):
                host, _, port = self.target[4:].rpartition(":")
                with socket.create_connection((host, int(port)), timeout=10) as conn:
                    conn.sendall(label.content)
                return self.target
            if self.target.startswith("lp:"):
                done = subprocess.run(["lp", "-d", self.target[3:]], input=label.content,
                                      capture_output=True, timeout=30, check=False)
                if done.returncode:
                    raise PrinterError(f"printer {self.target}: lp says "
                                       f"{done.stderr.decode(errors='replace').strip()}")
                return self.target
            folder = Path(self.target).expanduser()
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{label.tracking_number}.{_extension(label)}"
            path.write_bytes(label.content)
            return str(path)
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            raise PrinterError(f"printer {self.target}: {exc}") from None

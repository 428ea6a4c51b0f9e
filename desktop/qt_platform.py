"""Before Qt starts: can it open a window here? Name the missing Debian packages, not a Qt abort.

Qt aborts the process (SIGABRT) when no platform plugin loads, and its message names at most
the first missing library. This runs before PySide6 is imported, asks the real loader for each
library Qt will need, and maps the missing ones to the packages that provide them.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

# What Qt's own libraries (QtGui and the plugins the console loads) need on every platform,
# offscreen included: soname → the Debian 12 package that provides it.
QT_LIBRARIES: dict[str, str] = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}

# What the xcb platform plugin (a real X display) needs on top (readelf -d of libqxcb.so and
# libQt6XcbQpa.so.6 in PySide6 6.12).
XCB_LIBRARIES: dict[str, str] = {
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}


def missing_packages(libraries: Mapping[str, str]) -> list[str]:
    """The packages of the libraries the dynamic loader cannot load here, each once, in order."""
    missing: list[str] = []
    for soname, package in libraries.items():
        try:
            ctypes.CDLL(soname)
        except OSError:  # not found, or found but unloadable (its own dependency is missing)
            if package not in missing:
                missing.append(package)
    return missing


def qt_platform(environ: Mapping[str, str]) -> str:
    """The platform plugin Qt will try first (what QT_QPA_PLATFORM says, else Qt's default)."""
    # QT_QPA_PLATFORM may be a fallback list ("wayland;xcb") with options ("xcb:foo=1").
    chosen = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    if not sys.platform.startswith("linux"):
        return "native"
    # Qt 6 starts with Wayland inside a Wayland session, else with xcb (X11).
    if environ.get("XDG_SESSION_TYPE") == "wayland" and environ.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "xcb"


def startup_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """Why Qt could not start here, and what to install or set; None when nothing is missing."""
    environ = os.environ if environ is None else environ
    platform = qt_platform(environ)
    if platform == "native":
        return None
    needed = dict(QT_LIBRARIES)
    if platform == "xcb":
        needed.update(XCB_LIBRARIES)
    missing = missing_packages(needed)
    if missing:
        where = "a real X display (xcb)" if platform == "xcb" else f"Qt's {platform} platform"
        return (f"Qt cannot start on {where}: this machine lacks the Debian packages "
                f"{', '.join(missing)}. Install them (as root) with:\n"
                f"  apt-get install --no-install-recommends {' '.join(missing)}\n"
                "(scripts/setup installs them too).")
    if platform == "xcb" and not environ.get("DISPLAY"):
        return ("there is no X display (DISPLAY is not set): run it in a desktop session, over "
                "`ssh -X`, or without a screen with QT_QPA_PLATFORM=offscreen.")
    return None


@contextmanager
def exit_instead_of_qt_abort(program: str) -> Iterator[None]:
    """While Qt starts, a fatal Qt message ends the process with exit 1 and the message, not
    SIGABRT (e.g. an X display that does not answer)."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def on_message(kind: QtMsgType, _context: object, message: str) -> None:
        if kind == QtMsgType.QtFatalMsg:
            sys.stderr.write(f"{program}: Qt could not start: {message}\n")
            sys.stderr.flush()
            os._exit(1)  # returning would let Qt abort the process
        sys.stderr.write(f"{message}\n")

    previous = qInstallMessageHandler(on_message)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)

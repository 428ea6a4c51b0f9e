"""`tote console` on a real X display: its window comes up under Xvfb, and where Qt cannot start
(libraries missing, a display that does not answer) it exits 1 with what to do, not a Qt abort."""

from __future__ import annotations

import ctypes
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.qt_platform import QT_LIBRARIES, XCB_LIBRARIES, missing_packages

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "127.0.0.1:9"  # the console's window shows before the server answers


def console_env(**extra: str) -> dict[str, str]:
    """The environment of a console a person starts: no offscreen platform (conftest sets it)."""
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(extra)
    return env


def start_console(env: dict[str, str], server: str = UNREACHABLE,
                  token: str = "tote_not_a_token") -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "server", "console", "--server", server,
                             "--token", token], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def require(missing: list[str], what: str) -> None:
    """Skip where this machine lacks what the test needs — never in CI, where it fails."""
    if missing:
        message = f"{what} needs {' '.join(missing)}: run scripts/test, which installs them"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def require_xcb() -> None:
    require(missing_packages({**QT_LIBRARIES, **XCB_LIBRARIES}), "Qt on a real X display")


def unused_display() -> str:
    for n in range(150, 400):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return f":{n}"
    raise AssertionError("no free X display number")


@pytest.fixture
def xvfb() -> Iterator[str]:
    """A real X server (Xvfb) on a display of its own choosing; yields DISPLAY."""
    require([] if shutil.which("Xvfb") else ["xvfb"], "the console on a real X display")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-nolisten", "tcp",
                               "-screen", "0", "1280x800x24"], pass_fds=(write_end,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write_end)
    try:
        # Xvfb writes its display number once it accepts clients.
        ready, _, _ = select.select([read_end], [], [], 60)
        number = os.read(read_end, 64).decode().strip() if ready else ""
        assert number, f"Xvfb did not start: {server.stderr.read() if server.poll() else ''}"
        yield f":{number}"
    finally:
        os.close(read_end)
        server.terminate()
        server.communicate(timeout=30)


class WindowAttributes(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("width", ctypes.c_int),
                ("height", ctypes.c_int), ("border_width", ctypes.c_int),
                ("depth", ctypes.c_int), ("visual", ctypes.c_void_p), ("root", ctypes.c_ulong),
                ("class_", ctypes.c_int), ("bit_gravity", ctypes.c_int),
                ("win_gravity", ctypes.c_int), ("backing_store", ctypes.c_int),
                ("backing_planes", ctypes.c_ulong), ("backing_pixel", ctypes.c_ulong),
                ("save_under", ctypes.c_int), ("colormap", ctypes.c_ulong),
                ("map_installed", ctypes.c_int), ("map_state", ctypes.c_int),
                ("all_event_masks", ctypes.c_long), ("your_event_mask", ctypes.c_long),
                ("do_not_propagate_mask", ctypes.c_long), ("override_redirect", ctypes.c_int),
                ("screen", ctypes.c_void_p)]


def shown_window_titles(display: str) -> list[str]:
    """Titles (_NET_WM_NAME) of the top-level windows the X server shows, asked over Xlib."""
    x = ctypes.CDLL("libX11.so.6")
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x.XDefaultRootWindow.restype = ctypes.c_ulong
    x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x.XInternAtom.restype = ctypes.c_ulong
    x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x.XQueryTree.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
                             ctypes.POINTER(ctypes.c_ulong),
                             ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
                             ctypes.POINTER(ctypes.c_uint)]
    x.XGetWindowAttributes.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                       ctypes.POINTER(WindowAttributes)]
    x.XGetWindowProperty.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_long, ctypes.c_long,
        ctypes.c_int, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))]
    x.XFree.argtypes = [ctypes.c_void_p]
    x.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x.XOpenDisplay(display.encode())
    assert dpy, f"cannot open X display {display}"
    try:
        name_atom = x.XInternAtom(dpy, b"_NET_WM_NAME", 0)
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children, count = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
        x.XQueryTree(dpy, x.XDefaultRootWindow(dpy), ctypes.byref(root), ctypes.byref(parent),
                     ctypes.byref(children), ctypes.byref(count))
        titles = []
        for i in range(count.value):
            attrs = WindowAttributes()
            x.XGetWindowAttributes(dpy, children[i], ctypes.byref(attrs))
            if attrs.map_state != 2:  # IsViewable
                continue
            kind, fmt = ctypes.c_ulong(), ctypes.c_int()
            items, after = ctypes.c_ulong(), ctypes.c_ulong()
            value = ctypes.POINTER(ctypes.c_ubyte)()
            if x.XGetWindowProperty(dpy, children[i], name_atom, 0, 1024, 0, 0,
                                    ctypes.byref(kind), ctypes.byref(fmt), ctypes.byref(items),
                                    ctypes.byref(after), ctypes.byref(value)) == 0 and value:
                titles.append(ctypes.string_at(value, items.value).decode("utf-8", "replace"))
                x.XFree(value)
        if children:
            x.XFree(children)
        return titles
    finally:
        x.XCloseDisplay(dpy)


def test_missing_packages_asks_the_real_loader():
    libraries = {"libc.so.6": "libc6", "libtote-no-such-library.so.7": "tote-no-such-package",
                 "libtote-no-such-library.so.8": "tote-no-such-package"}
    assert missing_packages(libraries) == ["tote-no-such-package"]


def test_console_without_xcb_libraries_names_the_packages_instead_of_aborting(tmp_path):
    # Unloadable copies first on the loader's path: the libraries are there but cannot load,
    # to Qt as to the check (what a machine without the packages looks like to both).
    for soname in ("libxcb-cursor.so.0", "libxcb-icccm.so.4"):
        (tmp_path / soname).write_bytes(b"")
    console = start_console(console_env(DISPLAY=":0", LD_LIBRARY_PATH=str(tmp_path)))
    _, err = console.communicate(timeout=120)
    assert console.returncode == 1, err
    assert "libxcb-cursor0" in err and "libxcb-icccm4" in err
    assert "apt-get install --no-install-recommends" in err


def test_console_on_a_display_that_does_not_answer_exits_with_qt_reason():
    require_xcb()
    console = start_console(console_env(DISPLAY=unused_display()))
    _, err = console.communicate(timeout=120)
    assert console.returncode == 1, err  # not -6 (SIGABRT)
    assert "tote console: Qt could not start" in err


def test_console_without_a_display_says_so():
    env = console_env()
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    console = start_console(env)
    _, err = console.communicate(timeout=120)
    assert console.returncode == 1, err
    assert "QT_QPA_PLATFORM=offscreen" in err or "apt-get install" in err


def test_console_window_comes_up_on_a_real_x_display(xvfb, tote, supervisor_token):
    require_xcb()
    console = start_console(console_env(DISPLAY=xvfb), server=tote.grpc_address,
                            token=supervisor_token)
    try:
        deadline = time.monotonic() + 90  # only catches a hang
        titles: list[str] = []
        while console.poll() is None and time.monotonic() < deadline:
            titles = shown_window_titles(xvfb)
            if any(t.startswith("tote console") for t in titles):
                break
            time.sleep(0.2)
        assert console.poll() is None, console.communicate()[1]
        assert any(t == f"tote console — {tote.grpc_address}" for t in titles), titles
    finally:
        console.terminate()
        console.communicate(timeout=30)

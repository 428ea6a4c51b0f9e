"""Every command core declares has its one handler in the registry (core/service/bus.py), and
each is a frozen, slotted dataclass of its own fields."""

import dataclasses
import importlib
import pkgutil
import sys

import core.domain
import core.service.handlers
from core.domain.commands import Command
from core.service.bus import HANDLERS


def _commands() -> list[type]:
    for package in (core.domain, core.service.handlers):
        for module in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    found, todo = [], list(Command.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        # (slots=True makes a new class: the one it replaced is still a subclass until collected)
        if (cls.__module__.startswith("core.")
                and getattr(sys.modules[cls.__module__], cls.__qualname__, None) is cls):
            found.append(cls)
    return found


def test_every_command_of_core_has_a_handler():
    commands = _commands()
    assert len(commands) >= 15  # the walk really found them
    assert [c.__qualname__ for c in commands if c not in HANDLERS] == []


def test_every_command_is_a_frozen_slotted_dataclass():
    for cls in _commands():
        params = cls.__dataclass_params__  # type: ignore[attr-defined]
        assert dataclasses.is_dataclass(cls) and params.frozen, cls
        assert "__slots__" in cls.__dict__, cls

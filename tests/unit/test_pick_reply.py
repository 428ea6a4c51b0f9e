"""A scan's stored reply carries every field of the line, as dataclasses.asdict would."""

from dataclasses import asdict, fields

from core.service.picking import LineView, line_dict


def test_line_dict_is_asdict_for_every_field():
    view = LineView(*(f"v{i}" if f.type == "str" else i
                      for i, f in enumerate(fields(LineView))))
    assert line_dict(view) == asdict(view)

"""The picker's screens against a fake client: every answer, and every way it goes wrong."""

from __future__ import annotations

import grpc

from terminals.client import TerminalError
from terminals.picker.app import PickerApp
from tests.terminals.fake import FakeClient, task
from tests.terminals.helpers import sign_in, text, until

SOAP = ("SOAP-1", "4006381333931", "A-01-1", 2)
TEA = ("TEA-9", "8901234567892", "B-04-2", 1)


def app_with(client: FakeClient) -> PickerApp:
    app = PickerApp(client, "FC1")
    app.bells = 0  # type: ignore[attr-defined]

    def bell() -> None:
        app.bells += 1  # type: ignore[attr-defined]

    app.bell = bell  # type: ignore[method-assign]
    return app


async def test_an_empty_badge_does_not_sign_in_and_a_badge_shows_the_first_bin():
    app = app_with(FakeClient(task(SOAP, TEA)))
    async with app.run_test(size=(40, 16)) as pilot:
        await pilot.press("enter")
        assert app.operator == "" and app.bells == 1
        await sign_in(pilot, "OP7")
        assert app.operator == "OP7"
        assert text(app, "#bin") == "BIN A-01-1"
        assert text(app, "#name") == "SOAP-1"  # no name in the catalog: the SKU stands in
        assert text(app, "#item") == "GTIN 4006381333931 · SOAP-1"
        assert text(app, "#qty") == "take 2 of 2"
        assert text(app, "#progress") == "line 1/2 · 0/3 units"
        assert app.focused is not None and app.focused.id == "scan"


async def test_a_right_scan_counts_down_at_once_and_reaches_the_server():
    client = FakeClient(task(SOAP, TEA))
    app = app_with(client)
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        await pilot.press(*SOAP[1], "enter")
        assert text(app, "#qty") == "take 1 of 2"
        assert app.screen.query_one("#feedback").has_class("ok")
        await until(pilot, lambda: len(client.scans) == 1)
        task_id, barcode, _, operator = client.scans[0]
        assert (task_id, barcode, operator) == ("T1", SOAP[1], "OP7")


async def test_a_wrong_scan_is_loud_names_what_was_expected_and_sends_nothing():
    client = FakeClient(task(SOAP, TEA))
    app = app_with(client)
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        await pilot.press(*"5000000000007", "enter")
        assert app.bells == 1
        assert app.screen.query_one("#feedback").has_class("bad")
        assert text(app, "#feedback") == ("WRONG: expected 4006381333931 (SOAP-1) from bin "
                                         "A-01-1, scanned 5000000000007")
        assert text(app, "#qty") == "take 2 of 2"
        # The right unit next: scans go out in order, so its arrival first shows the wrong
        # one was never sent.
        await pilot.press(*SOAP[1], "enter")
        await until(pilot, lambda: client.scans)
        assert [barcode for _task, barcode, *_ in client.scans] == [SOAP[1]]


async def test_a_complete_task_sends_the_tote_to_packing_and_fetches_the_next_task():
    client = FakeClient(task(SOAP), task(TEA, task_id="T2"))
    app = app_with(client)
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        await pilot.press(*SOAP[1], "enter", *SOAP[1], "enter")
        await until(pilot, lambda: text(app, "#bin") == "BIN B-04-2")
        assert text(app, "#feedback") == "task complete: take tote T1 to packing (O1)"
        assert [s[1] for s in client.scans] == [SOAP[1]] * 2
        assert len({s[2] for s in client.scans}) == 2  # a fresh scan id per scan


async def test_no_work_waiting_says_so_and_f5_looks_again():
    client = FakeClient()
    app = app_with(client)
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        assert text(app, "#feedback") == "no work waiting · F5: look again"
        client.tasks.append(task(TEA))
        await pilot.press("f5")
        await until(pilot, lambda: text(app, "#bin") == "BIN B-04-2")


async def test_a_refused_scan_shows_the_servers_words_and_undoes_the_count():
    client = FakeClient(task(SOAP))
    app = app_with(client)
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        client.fail = TerminalError("pick task T1 was abandoned (untouched too long)",
                                    grpc.StatusCode.FAILED_PRECONDITION)
        await pilot.press(*SOAP[1], "enter")
        await until(pilot, lambda: "server refused" in text(app, "#feedback"))
        assert "abandoned" in text(app, "#feedback") and app.bells == 1
        assert text(app, "#qty") == "take 2 of 2"


async def test_an_unreachable_server_keeps_the_scan_and_sends_it_once_when_back(monkeypatch):
    monkeypatch.setattr("terminals.picker.screens.RETRY_S", 0.05)
    client = FakeClient(task(SOAP))
    app = app_with(client)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot)
        client.fail = TerminalError("server unreachable (unavailable)",
                                    grpc.StatusCode.UNAVAILABLE)
        await pilot.press(*SOAP[1], "enter")
        await until(pilot, lambda: "offline — 1 scan waiting" in text(app, "#title"))
        client.fail = None
        await until(pilot, lambda: "offline" not in text(app, "#title"))
        assert len(client.scans) == 1


async def test_an_unreachable_server_when_asking_for_work_says_so():
    client = FakeClient(task(SOAP))
    client.fail = TerminalError("server unreachable (unavailable): connect failed",
                                grpc.StatusCode.UNAVAILABLE)
    app = app_with(client)
    async with app.run_test(size=(40, 16)) as pilot:
        await pilot.press(*"OP7", "enter")
        await until(pilot, lambda: "unreachable" in text(app, "#feedback"))
        assert "F5: try again" in text(app, "#feedback")
        client.fail = None
        await pilot.press("f5")
        await until(pilot, lambda: text(app, "#bin") == "BIN A-01-1")


async def test_a_short_pick_asks_how_many_confirms_and_sends_the_lines_total_missing():
    client = FakeClient(task(("SOAP-1", "4006381333931", "A-01-1", 3)))
    app = app_with(client)
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        await pilot.press(*"4006381333931", "enter")
        await pilot.press("f2")
        await until(pilot, lambda: app.screen.id != "_default" and app.screen.query("#missing"))
        await pilot.press("backspace", "1", "enter")
        assert "Enter: confirm" in text(app, "#short-help")
        await pilot.press("enter")
        await until(pilot, lambda: text(app, "#qty") == "take 1 of 3")
        await pilot.press("f2")
        await until(pilot, lambda: app.screen.query("#missing"))
        await pilot.press("backspace", "1", "enter", "enter")
        await until(pilot, lambda: "task complete" in text(app, "#feedback"))
        assert client.shorts == [("T1", "L1", 1, "OP7"), ("T1", "L1", 2, "OP7")]
        assert len(client.scans) == 1


async def test_a_short_pick_can_be_cancelled():
    client = FakeClient(task(SOAP))
    app = app_with(client)
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: app.screen.query("#missing"))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen.query("#scan"))
        assert client.shorts == [] and text(app, "#qty") == "take 2 of 2"


LONG = ("SOAP-1", "4006381333931", "A-01-1", 2,
        "Mysore Sandal Soap, classic sandalwood bar, pack of four (4 × 125 g)")


def on_screen(app: PickerApp, selector: str) -> str:
    """The first line of a widget's text as it is drawn (cut to its width), not its whole
    content; a larger screen pads the widget, so blank lines above the text are skipped."""
    widget = app.screen.query_one(selector)
    lines = (widget.render_line(y).text.rstrip() for y in range(widget.size.height))
    return next((line for line in lines if line.strip()), "")


async def test_the_items_name_is_shown_and_cut_with_an_ellipsis_on_a_handheld():
    app = app_with(FakeClient(task(LONG)))
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        assert text(app, "#name") == LONG[4]
        # Drawn once the new text is laid out (a moment after the content changes).
        await until(pilot, lambda: on_screen(app, "#name"))
        shown = on_screen(app, "#name")
        assert shown.endswith("…") and len(shown) <= 40
        assert shown.strip().startswith("Mysore Sandal Soap, classic")
        await pilot.press(*"5000000000007", "enter")
        assert text(app, "#feedback") == (f"WRONG: expected 4006381333931 ({LONG[4]}) from bin "
                                         "A-01-1, scanned 5000000000007")
    app = app_with(FakeClient(task(LONG)))
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot)
        await until(pilot, lambda: on_screen(app, "#name"))
        assert on_screen(app, "#name").strip() == LONG[4]


BIN_A = ("SOAP-1", "4006381333931", "A-03-2", 1, "Sandal soap")
BIN_A_TOO = ("TEA-9", "8901234567892", "A-03-2", 1, "Assam tea")
BIN_B = ("OIL-2", "8901030865278", "B-01-1", 1, "Coconut oil")


async def test_a_unit_scanned_before_its_bin_label_is_loud_and_counts_nothing():
    client = FakeClient(task(BIN_A, confirm_bin_scan=True))
    app = app_with(client)
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        assert text(app, "#bin") == "SCAN BIN LABEL A-03-2"
        assert app.screen.query_one("#scan").placeholder == "scan the bin label"
        await pilot.press(*BIN_A[1], "enter")
        assert app.bells == 1 and app.screen.query_one("#feedback").has_class("bad")
        assert text(app, "#feedback") == ("scan the bin label of A-03-2 first "
                                         "(scanned item 4006381333931)")
        assert text(app, "#qty") == "take 1 of 1"
        # The bin label, then the unit: the unit is the first scan to go out.
        await pilot.press(*"A-03-2", "enter", *BIN_A[1], "enter")
        await until(pilot, lambda: client.scans)
        assert [barcode for _task, barcode, *_ in client.scans] == [BIN_A[1]]


async def test_a_wrong_bin_label_is_loud_and_changes_nothing():
    client = FakeClient(task(BIN_A, confirm_bin_scan=True))
    app = app_with(client)
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        await pilot.press(*"B-01-1", "enter")
        assert app.bells == 1 and app.screen.query_one("#feedback").has_class("bad")
        assert text(app, "#feedback") == "WRONG BIN: expected bin A-03-2, scanned B-01-1"
        assert text(app, "#bin") == "SCAN BIN LABEL A-03-2"
        await pilot.press(*BIN_A[1], "enter")  # still not confirmed
        assert "scan the bin label of A-03-2 first" in text(app, "#feedback")
        assert app.bells == 2


async def test_each_new_bin_is_confirmed_once_trimmed_and_in_any_case():
    client = FakeClient(task(BIN_A, BIN_A_TOO, BIN_B, confirm_bin_scan=True))
    app = app_with(client)
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        await pilot.press(*" a-03-2 ", "enter")  # a scanner's stray spaces, lower case
        assert app.screen.query_one("#feedback").has_class("ok")
        assert text(app, "#feedback") == "✓ bin A-03-2 · take 1 × Sandal soap"
        assert text(app, "#bin") == "BIN A-03-2 ✓"
        await pilot.press(*BIN_A[1], "enter")
        # The next line is in the same bin: no second label scan.
        assert text(app, "#name") == "Assam tea" and text(app, "#bin") == "BIN A-03-2 ✓"
        await pilot.press(*"a-03-2", "enter")  # the same label again is harmless
        assert text(app, "#feedback") == "bin A-03-2 already confirmed · scan the item"
        await pilot.press(*BIN_A_TOO[1], "enter")
        # A new bin asks for its label again.
        assert text(app, "#bin") == "SCAN BIN LABEL B-01-1"
        await pilot.press(*BIN_B[1], "enter")
        assert "scan the bin label of B-01-1 first" in text(app, "#feedback")
        await pilot.press(*"B-01-1", "enter", *BIN_B[1], "enter")
        await until(pilot, lambda: "task complete" in text(app, "#feedback"))
        assert app.bells == 1
        assert [s[1] for s in client.scans] == [BIN_A[1], BIN_A_TOO[1], BIN_B[1]]


async def test_bin_labels_are_checked_offline_too(monkeypatch):
    monkeypatch.setattr("terminals.picker.screens.RETRY_S", 0.05)
    client = FakeClient(task(BIN_A, BIN_B, confirm_bin_scan=True))
    app = app_with(client)
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        client.fail = TerminalError("server unreachable (unavailable)",
                                    grpc.StatusCode.UNAVAILABLE)
        await pilot.press(*"A-03-2", "enter", *BIN_A[1], "enter")
        await until(pilot, lambda: "offline — 1 scan waiting" in text(app, "#title"))
        await pilot.press(*"A-03-2", "enter")
        assert text(app, "#feedback") == "WRONG BIN: expected bin B-01-1, scanned A-03-2"
        await pilot.press(*"b-01-1", "enter", *BIN_B[1], "enter")
        assert text(app, "#bin") == "ALL PICKED" and app.bells == 1
        client.fail = None
        await until(pilot, lambda: "task complete" in text(app, "#feedback"))
        assert [s[1] for s in client.scans] == [BIN_A[1], BIN_B[1]]


async def test_a_short_pick_waits_for_the_bin_label():
    client = FakeClient(task(BIN_A, confirm_bin_scan=True))
    app = app_with(client)
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        await pilot.press("f2")
        assert text(app, "#feedback") == "scan the bin label of A-03-2 first, then F2"
        assert app.bells == 1 and not app.screen.query("#missing")
        await pilot.press(*"A-03-2", "enter", "f2")
        await until(pilot, lambda: app.screen.query("#missing"))
        await pilot.press("enter", "enter")
        await until(pilot, lambda: "task complete" in text(app, "#feedback"))
        assert client.shorts == [("T1", "L1", 1, "OP7")]


async def test_a_badge_the_server_would_refuse_does_not_sign_in():
    app = app_with(FakeClient(task(SOAP)))
    async with app.run_test(size=(40, 16)) as pilot:
        badge = app.screen.query_one("#badge")
        badge.value = "B" * 128  # a long badge, not typed key by key
        await pilot.press("B", "enter")
        assert app.operator == "" and app.bells == 1
        assert "at most 128 printable characters" in text(app, "#badge-help")
        badge.value = "B" * 127
        await sign_in(pilot, "B")
        assert app.operator == "B" * 128

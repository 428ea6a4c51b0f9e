"""The one saga runner (core/saga/runner.py) is driven by its table: a table of fake steps that
record their calls shows what runs, in what order, and what the runner decides."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace

import pytest

from core.domain.events import EventType
from core.domain.saga import Decision, StepOutcome
from core.saga.runner import Answer, SagaTable, Step, run


@dataclass
class World:
    """The saga's durable state (step name -> outcome) and every call the steps made."""

    outcomes: dict[str, StepOutcome]
    calls: list[str] = field(default_factory=list)
    cancel_requested: bool = False
    in_play: bool = True


def table(world: World, names: tuple[str, ...], *, side_by_side: bool = False,
          answers: dict[str, Answer[World]] | None = None,
          writes: dict[str, StepOutcome] | None = None,
          undo_fails: type[Exception] | None = None) -> SagaTable[World]:
    """A saga of steps named `names`: each action records its call, writes `writes[name]` (if
    any) as its step's durable outcome and answers `answers[name]` (default: read it back)."""
    answers = answers or {}
    writes = writes or {}

    def step(name: str) -> Step[World]:
        async def action(w: World) -> Answer[World]:
            world.calls.append(f"do {name}")
            await asyncio.sleep(0)
            if name in writes:
                world.outcomes[name] = writes[name]
            return answers.get(name, Answer())

        async def undo(w: World) -> None:
            world.calls.append(f"undo {name}")
            if undo_fails is not None:
                raise undo_fails("the gateway is down")
            world.outcomes[name] = StepOutcome.COMPENSATED

        return Step(name, action=action, outcome=lambda w: w.outcomes[name],
                    succeeded=EventType.INVENTORY_LOCKED, failed=EventType.INVENTORY_FAILURE,
                    compensation=undo, compensated=EventType.INVENTORY_RELEASED)

    async def load(key: str) -> World:
        world.calls.append("load")
        return replace(world, outcomes=dict(world.outcomes))

    async def complete(w: World) -> None:
        world.calls.append("complete")

    async def cancel(w: World, why: str) -> None:
        world.calls.append(f"cancel ({why})" if why else "cancel")

    return SagaTable(
        name="test", steps=tuple(step(n) for n in names), side_by_side=side_by_side,
        load=load, in_play=lambda w: w.in_play, cancel_requested=lambda w: w.cancel_requested,
        complete=complete, completed=(EventType.ORDER_READY_FOR_FULFILLMENT,),
        cancel=cancel, cancelled=(EventType.ORDER_CANCELLED,),
        wait_on=(ConnectionError,), retry_later_s=7.0)


RUNNING, DONE, FAILED = StepOutcome.RUNNING, StepOutcome.DONE, StepOutcome.FAILED


def test_steps_one_after_another_run_in_table_order_and_the_saga_completes():
    world = World({"a": RUNNING, "b": RUNNING, "c": RUNNING})
    saga = table(world, ("a", "b", "c"),
                 answers={n: Answer(outcome=DONE) for n in "abc"})
    done = asyncio.run(run(saga, "k"))
    assert done.decision == Decision.COMPLETE and not done.waiting
    # Each action told its outcome: nothing was read back after the first load.
    assert world.calls == ["load", "do a", "do b", "do c", "complete"]


def test_a_step_already_done_is_not_run_again():
    world = World({"a": DONE, "b": RUNNING})
    saga = table(world, ("a", "b"), writes={"b": DONE})
    asyncio.run(run(saga, "k"))
    # b's action wrote its outcome without telling it: the state is read back, then complete.
    assert world.calls == ["load", "do b", "load", "complete"]


def test_a_step_waiting_on_an_answer_ends_the_pass_with_when_to_look_again():
    world = World({"a": DONE, "b": RUNNING, "c": RUNNING})
    saga = table(world, ("a", "b", "c"), answers={"b": Answer(retry_in=3.0)})
    done = asyncio.run(run(saga, "k"))
    assert (done.decision, done.waiting, done.retry_in) == (Decision.WAIT, True, 3.0)
    # Nothing runs past a step still running, and no action runs twice in a pass.
    assert world.calls == ["load", "do b"]


def test_steps_side_by_side_all_run_in_one_round_then_the_state_is_read_back():
    world = World({"a": RUNNING, "b": RUNNING})
    saga = table(world, ("a", "b"), side_by_side=True,
                 answers={"a": Answer(retry_in=5.0), "b": Answer(retry_in=2.0)})
    done = asyncio.run(run(saga, "k"))
    assert sorted(world.calls[1:]) == ["do a", "do b"] and world.calls[0] == "load"
    assert (done.waiting, done.retry_in) == (True, 2.0)  # the sooner of the two


def test_a_failed_step_compensates_every_step_done_in_reverse_table_order_then_cancels():
    world = World({"a": DONE, "b": DONE, "c": RUNNING})
    saga = table(world, ("a", "b", "c"), writes={"c": FAILED})
    done = asyncio.run(run(saga, "k"))
    assert done.decision == Decision.COMPENSATE
    # c failed (nothing of it to undo); the steps done before it are undone, last first.
    assert world.calls == ["load", "do c", "load", "undo b", "undo a", "cancel"]


def test_a_failure_no_state_records_compensates_and_is_handed_to_the_cancellation():
    world = World({"a": DONE, "b": RUNNING, "c": RUNNING})
    saga = table(world, ("a", "b", "c"), answers={"b": Answer(failure="refused")})
    done = asyncio.run(run(saga, "k"))
    assert done.failure == "refused"
    assert world.calls == ["load", "do b", "undo a", "cancel (refused)"]


def test_a_cancellation_compensates_side_by_side_steps_and_runs_no_action():
    world = World({"a": DONE, "b": RUNNING}, cancel_requested=True)
    saga = table(world, ("a", "b"), side_by_side=True)
    done = asyncio.run(run(saga, "k"))
    assert done.decision == Decision.COMPENSATE
    assert world.calls[0] == "load" and sorted(world.calls[1:3]) == ["undo a", "undo b"]
    assert world.calls[3:] == ["cancel"]


def test_a_saga_with_everything_failed_or_undone_is_only_cancelled():
    world = World({"a": FAILED, "b": StepOutcome.COMPENSATED})
    done = asyncio.run(run(table(world, ("a", "b")), "k"))
    assert done.decision == Decision.CANCEL and world.calls == ["load", "cancel"]


def test_an_undo_the_table_says_to_wait_on_ends_the_pass_waiting_without_cancelling():
    world = World({"a": DONE, "b": FAILED})
    saga = table(world, ("a", "b"), undo_fails=ConnectionError)
    done = asyncio.run(run(saga, "k"))
    assert (done.decision, done.waiting, done.retry_in) == (Decision.COMPENSATE, True, 7.0)
    assert world.calls == ["load", "undo a"]


def test_any_other_error_of_an_undo_goes_to_the_caller():
    world = World({"a": DONE, "b": FAILED})
    saga = table(world, ("a", "b"), undo_fails=KeyError)
    with pytest.raises(KeyError):
        asyncio.run(run(saga, "k"))


def test_a_write_that_leaves_the_saga_at_rest_ends_the_pass():
    world = World({"a": RUNNING, "b": RUNNING})
    at_rest = World({"a": DONE, "b": DONE}, in_play=False)
    saga = table(world, ("a", "b"), side_by_side=True,
                 answers={"a": Answer(state=at_rest), "b": Answer(retry_in=1.0)})
    done = asyncio.run(run(saga, "k"))
    assert not done.waiting and done.decision == Decision.WAIT
    assert sorted(world.calls) == ["do a", "do b", "load"]  # no read back, no completion


def test_a_saga_out_of_play_does_nothing():
    world = World({"a": RUNNING}, in_play=False)
    done = asyncio.run(run(table(world, ("a",)), "k", known=world))
    assert world.calls == [] and not done.waiting


def test_the_state_the_caller_just_committed_is_not_read_again():
    world = World({"a": RUNNING})
    saga = table(world, ("a",), answers={"a": Answer(outcome=DONE)})
    asyncio.run(run(saga, "k", known=world))
    assert world.calls == ["do a", "complete"]

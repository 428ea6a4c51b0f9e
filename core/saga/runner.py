"""The one saga runner: it executes a table of steps (core/saga/order.py, core/saga/packing.py).

A table names, for each step, its action, how its outcome is read from the saga's state, its
events and its compensation. One pass of `run` reads each step's outcome, asks `decide`
(core/domain/saga.py) what comes next and does it:

- WAIT: run the action of every step still running (side by side, or the first one in a
  table whose steps go one after another); each action runs at most once a pass, so a step
  waiting on an answer ends the pass with when it wants another look;
- COMPLETE: run the table's completion (if the steps' own writes do not complete it);
- COMPENSATE: run the compensation of every step begun and not failed or undone (side by
  side, or the last first), then the table's cancellation; CANCEL: the cancellation alone.

State lives in the database: the runner holds nothing between passes, so a crash anywhere
resumes with the next pass. Actions record their intent before calling an outside party and
carry its idempotency key: repeating one repeats the same call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Generic, TypeVar

from core.domain.events import EventType
from core.domain.saga import Decision, StepOutcome, decide

log = logging.getLogger(__name__)
S = TypeVar("S")
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Answer(Generic[S]):
    """What an action reports back to the runner."""

    state: S | None = None  # the saga's state its write committed, when it has it
    outcome: StepOutcome | None = None  # what became of the step, when the state does not say
    retry_in: float | None = None  # an answer to wait for: seconds until another look
    failure: str = ""  # failed with no durable record of it: why (the saga is then undone)


@dataclass(frozen=True, slots=True)
class Step(Generic[S]):
    """One step of a saga: what it does, how its outcome is read, and what undoes it."""

    name: str
    action: Callable[[S], Awaitable[Answer[S]]]
    outcome: Callable[[S], StepOutcome]
    succeeded: EventType | None  # the event its success records (None: it records none)
    failed: EventType | None
    compensation: Callable[[S], Awaitable[None]] | None  # None: nothing of it to undo
    compensated: EventType | None


@dataclass(frozen=True, slots=True)
class SagaTable(Generic[S]):
    """A saga: its steps in order, how its state is read, how it completes and is cancelled."""

    name: str
    steps: tuple[Step[S], ...]
    side_by_side: bool  # the steps run at once (else one after another, in table order)
    load: Callable[[str], Awaitable[S | None]]
    in_play: Callable[[S], bool]  # whether the saga decides anything in this state
    cancel_requested: Callable[[S], bool]
    complete: Callable[[S], Awaitable[None]] | None  # None: the last step's write completes it
    completed: tuple[EventType, ...]
    # Once nothing is left to undo; given why the saga failed when no state records it.
    cancel: Callable[[S, str], Awaitable[None]]
    cancelled: tuple[EventType, ...]
    # Errors of a compensation that mean "try again later" (the pass then ends waiting,
    # retry_later_s from now); any other error goes to the runner's caller.
    wait_on: tuple[type[BaseException], ...] = ()
    retry_later_s: float = 5.0


@dataclass(frozen=True, slots=True)
class Pass:
    """How a pass ended."""

    decision: Decision
    waiting: bool = False  # on an answer: look again retry_in from now (None: when told)
    retry_in: float | None = None
    failure: str = ""  # a step failed with no durable record of it: why


AT_REST = Pass(Decision.WAIT)  # nothing for the saga to do in the state it is in


async def run(table: SagaTable[S], key: str, known: S | None = None) -> Pass:
    """One pass of the saga `key` through `table`, from `known` (the state just committed by
    the caller) or the state read afresh."""
    st = known if known is not None else await table.load(key)
    tried: set[str] = set()
    learnt: dict[str, StepOutcome] = {}  # outcomes this pass was told, not yet read back
    failed: set[str] = set()  # steps that failed this pass with no record of it to read back
    waits: list[float] = []
    failure = ""
    while st is not None and table.in_play(st):
        outcomes = {s.name: StepOutcome.FAILED if s.name in failed
                    else learnt.get(s.name) or s.outcome(st) for s in table.steps}
        decision = decide(outcomes, cancel_requested=table.cancel_requested(st))
        if decision == Decision.COMPLETE:
            if table.complete is not None:
                await table.complete(st)
            return Pass(decision)
        if decision != Decision.WAIT:
            undo = [s.compensation for s in _begun(table, outcomes) if s.compensation is not None
                    and outcomes[s.name] not in (StepOutcome.FAILED, StepOutcome.COMPENSATED)]
            if not table.side_by_side:
                undo.reverse()  # one after another: the last step done is the first undone
            try:
                await _all(table, [partial(c, st) for c in undo])
            except table.wait_on as exc:
                log.warning("%s saga %s: undoing must wait: %s", table.name, key, exc)
                return Pass(decision, waiting=True, retry_in=table.retry_later_s,
                            failure=failure)
            await table.cancel(st, failure)
            return Pass(decision, failure=failure)
        running = [s for s in table.steps if outcomes[s.name] == StepOutcome.RUNNING]
        # One after another: nothing runs past a step still running.
        todo = [s for s in (running if table.side_by_side else running[:1])
                if s.name not in tried]
        if not todo:
            return Pass(decision, waiting=True, retry_in=min(waits) if waits else None)
        tried.update(s.name for s in todo)
        answers = await _all(table, [partial(s.action, st) for s in todo])
        for step, answer in zip(todo, answers, strict=True):
            if answer.failure:
                failed.add(step.name)
                failure = failure or answer.failure
            elif answer.outcome is not None:
                learnt[step.name] = answer.outcome
            if answer.retry_in is not None:
                waits.append(answer.retry_in)
        committed = [a.state for a in answers if a.state is not None]
        # A write that left the saga at rest (the order PROCESSING) ends the pass: a later
        # change (a cancellation) starts another.
        if any(not table.in_play(c) for c in committed):
            return AT_REST
        if len(answers) == 1 and committed:
            st, learnt = committed[0], {}  # committed under the row's lock: the latest
        elif not all(_told(a) for a in answers):
            st, learnt = await table.load(key), {}  # what became of the steps is in the database
    return AT_REST


def _begun(table: SagaTable[S], outcomes: dict[str, StepOutcome]) -> tuple[Step[S], ...]:
    """The steps that may have begun: every one side by side; one after another, those up to
    the first not done (nothing runs past it)."""
    if table.side_by_side:
        return table.steps
    for i, step in enumerate(table.steps):
        if outcomes[step.name] != StepOutcome.DONE:
            return table.steps[:i + 1]
    return table.steps


def _told(answer: Answer[S]) -> bool:
    """Whether an answer says all that changed (else the state is read back): the step's
    outcome, its failure, or that it still waits, with no write whose state came back."""
    return answer.state is None and (answer.outcome is not None or bool(answer.failure)
                                     or answer.retry_in is not None)


async def _all(table: SagaTable[S], calls: Sequence[Callable[[], Awaitable[_T]]]) -> list[_T]:
    """Make the calls side by side (or one after another in table order); side by side, every
    call ends before the first error, if any, is raised."""
    if len(calls) == 1:
        return [await calls[0]()]
    if not table.side_by_side:
        return [await c() for c in calls]
    done: list[_T] = []
    for r in await asyncio.gather(*(c() for c in calls), return_exceptions=True):
        if isinstance(r, BaseException):
            raise r
        done.append(r)
    return done

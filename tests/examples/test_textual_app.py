"""examples/textual_app.py, as written, under Textual's own harness (`App.run_test`): a
pilot types the question and presses Enter, as its user does.
"""

from __future__ import annotations

import asyncio
import importlib.util
from types import ModuleType

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Markdown
from textual.worker import WorkerCancelled

from outstream.testing import Ending, LLMScript, LLMServer

from .conftest import CLEAR, EXAMPLES, QUESTION, SCRIPT, SHOWN, TITLE


def load_example() -> ModuleType:
    """The example's module, imported from its file (after OPENAI_* are set)."""
    spec = importlib.util.spec_from_file_location("textual_app", EXAMPLES / "textual_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def type_in(pilot: Pilot[None], question: str) -> None:
    """Typed as its user does: into the box that has the focus, then Enter."""
    await pilot.press(*question, "enter")


def chat_of(pilot: Pilot[None]) -> list[str]:
    """What the chat shows: each question's and each answer's Markdown."""
    return [markdown.source for markdown in pilot.app.query(Markdown)]


def test_the_answer_streams_into_the_chat_as_markdown_without_escapes(model: LLMServer) -> None:
    async def run() -> tuple[list[str], list[str]]:
        async with load_example().Chat().run_test(notifications=True) as pilot:
            await type_in(pilot, QUESTION)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            return chat_of(pilot), [str(toast.render()) for toast in pilot.app.query("Toast")]

    chat, toasts = asyncio.run(run())
    assert chat == [f"> {QUESTION}", SHOWN]
    assert TITLE not in chat[1] and CLEAR not in chat[1]
    (toast,) = toasts  # the numbers, once the answer has ended
    assert f"outstream: {len(SHOWN)} chars" in toast
    (request,) = model.requests
    assert request.body["messages"] == [{"role": "user", "content": QUESTION}]


def test_a_question_asked_during_an_answer_stops_that_answer(model: LLMServer) -> None:
    model.set_script(LLMScript.steady(["word "] * 1000, rate=50))  # 20 s of answer

    async def run() -> list[str]:
        async with load_example().Chat().run_test() as pilot:
            await type_in(pilot, "Tell me a long story")
            await asyncio.to_thread(model.wait_for_requests, 1)
            (telling,) = pilot.app.workers
            model.set_script(SCRIPT)
            # Enter's action, not the pilot's keys: the pilot waits for the screen to be
            # still before each key, and it is not while an answer streams in.
            question = pilot.app.query_one(Input)
            question.value = QUESTION
            await question.action_submit()
            with pytest.raises(WorkerCancelled):
                await telling.wait()
            (answering,) = [worker for worker in pilot.app.workers if worker is not telling]
            await answering.wait()
            await pilot.pause()
            return chat_of(pilot)

    first_question, story, second_question, answer = asyncio.run(run())
    assert (first_question, second_question, answer) == (
        "> Tell me a long story",
        f"> {QUESTION}",
        SHOWN,
    )
    assert set(story) <= set("word ")  # what had come when it was cut short
    assert model.requests[0].wait(10) is Ending.CLIENT_CLOSED  # the model was hung up on
    assert model.requests[0].n_pieces_sent < 500

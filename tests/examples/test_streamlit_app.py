"""examples/streamlit_app.py, run by Streamlit's own harness (`AppTest`), as written.

AppTest runs the script to its end before the test looks, so it sees what a page
shows once the answer has ended, not the answer on its way.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from outstream.testing import LLMServer

from .conftest import EXAMPLES, QUESTION, SHOWN


def test_a_question_gets_the_whole_answer_as_markdown_without_escapes_and_the_numbers(
    model: LLMServer,
) -> None:
    app = AppTest.from_file(str(EXAMPLES / "streamlit_app.py"), default_timeout=20)
    app.run()
    assert not app.exception
    assert not app.chat_message  # nothing asked yet: no request made
    assert not model.requests

    app.chat_input[0].set_value(QUESTION).run()
    assert not app.exception
    user, assistant = app.chat_message
    assert (user.name, user.markdown[0].value) == ("user", QUESTION)
    assert assistant.name == "assistant"
    assert [markdown.value for markdown in assistant.markdown] == [SHOWN.rstrip("\n")]
    assert assistant.caption[0].value.startswith(f"outstream: {len(SHOWN)} chars")


def test_the_next_question_is_asked_with_the_conversation_so_far(model: LLMServer) -> None:
    app = AppTest.from_file(str(EXAMPLES / "streamlit_app.py"), default_timeout=20)
    app.run()
    app.chat_input[0].set_value(QUESTION).run()
    app.chat_input[0].set_value("And at night?").run()
    assert not app.exception

    assert [m.name for m in app.chat_message] == ["user", "assistant"] * 2
    assert app.chat_message[1].markdown[0].value == SHOWN.rstrip("\n")  # the first, redrawn
    assert app.chat_message[3].markdown[0].value == SHOWN.rstrip("\n")  # (the model's script)
    assert model.requests[1].body["messages"] == [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": SHOWN},  # as shown: without the escapes
        {"role": "user", "content": "And at night?"},
    ]

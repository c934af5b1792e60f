"""A terminal chat (Textual) whose answers stream through outstream: `python textual_app.py`.

The model is OpenAI's, or any OpenAI-compatible server's: OPENAI_API_KEY, OPENAI_BASE_URL.
"""

from openai import AsyncOpenAI
from textual import work
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Footer, Input, Markdown

import outstream

client = AsyncOpenAI()


class Chat(App[None]):
    AUTO_FOCUS = "Input"  # type at once

    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="chat")
        yield Input(placeholder="Ask anything")
        yield Footer()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.input.clear()
        chat = self.query_one("#chat", VerticalScroll)
        answer = Markdown()
        await chat.mount(Markdown(f"> {event.value}"), answer)
        chat.anchor()  # keep the end of the answer in view
        self.ask(event.value, answer)

    @work(exclusive=True)
    async def ask(self, question: str, answer: Markdown) -> None:
        chunks = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": question}], stream=True
        )
        stream = Markdown.get_stream(answer)
        try:  # a new question cancels this worker: leaving `async with` hangs up on the model
            async with outstream.aiter_text(chunks, render="markdown") as text:
                async for delta in text:  # paced, sanitized, never a half-drawn Markdown marker
                    await stream.write(delta)
        finally:
            await stream.stop()
        self.notify(text.result.stats.format(), title="outstream")


if __name__ == "__main__":
    Chat().run()

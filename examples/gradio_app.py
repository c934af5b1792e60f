"""A Gradio chat whose answers stream through outstream: `python gradio_app.py`.

The model is OpenAI's, or any OpenAI-compatible server's: OPENAI_API_KEY, OPENAI_BASE_URL.
"""

import gradio as gr
from openai import OpenAI

import outstream

client = OpenAI()


def respond(message, history):
    chunks = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[*history, {"role": "user", "content": message}],
        stream=True,
    )
    shown = ""
    for delta in outstream.iter_text(chunks, render="markdown"):
        shown += delta
        yield shown  # Gradio shows the message so far


demo = gr.ChatInterface(respond, title="Ask anything")

if __name__ == "__main__":
    demo.launch()

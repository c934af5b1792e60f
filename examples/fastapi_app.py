"""An HTTP endpoint that streams a model's answer as plain text: `uvicorn fastapi_app:app`.

Then `curl -N 'localhost:8000/answer?q=Why+is+the+sky+blue%3F'`. The model is OpenAI's,
or any OpenAI-compatible server's: OPENAI_API_KEY, OPENAI_BASE_URL.
"""

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from openai import AsyncOpenAI

import outstream

client = AsyncOpenAI()
app = FastAPI()


@app.get("/answer")
async def answer(q: str) -> StreamingResponse:
    chunks = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": q}], stream=True
    )
    # Paced and sanitized; a client that disconnects stops the model's stream.
    return StreamingResponse(outstream.aiter_text(chunks), media_type="text/plain; charset=utf-8")

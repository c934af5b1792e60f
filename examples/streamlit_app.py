"""A Streamlit chat whose answers stream through outstream: `streamlit run streamlit_app.py`.

The model is OpenAI's, or any OpenAI-compatible server's: OPENAI_API_KEY, OPENAI_BASE_URL.
"""

import streamlit as st
from openai import OpenAI

import outstream

client = OpenAI()
if "messages" not in st.session_state:
    st.session_state.messages = []
for message in st.session_state.messages:
    st.chat_message(message["role"]).markdown(message["content"])

if question := st.chat_input("Ask anything"):
    st.session_state.messages.append({"role": "user", "content": question})
    st.chat_message("user").markdown(question)
    with st.chat_message("assistant"):
        chunks = client.chat.completions.create(
            model="gpt-4o-mini", messages=st.session_state.messages, stream=True
        )
        text = outstream.iter_text(chunks, render="markdown")
        answer = st.write_stream(text)  # paced, sanitized, never a half-drawn Markdown marker
        st.caption(text.result.stats.format())  # time to first text, rate, lag…
    st.session_state.messages.append({"role": "assistant", "content": answer})

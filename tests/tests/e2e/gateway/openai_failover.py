"""The official `openai` package against `openclaw gateway` while the requested model is
throttled: the answers come from its fallback and say so.

Run by tests/tests/e2e/gateway/failover.rs with OPENAI_BASE_URL, OPENAI_API_KEY and MODEL set;
prints one JSON line with what it observed.
"""
import json
import os

import openai

client = openai.OpenAI(max_retries=0)  # base URL and key from the environment
model = os.environ["MODEL"]
messages = [{"role": "user", "content": "Hello from the openai package"}]
result = {}

# 1. Streamed: every chunk names the model that answered.
text = ""
models = set()
for chunk in client.chat.completions.create(model=model, messages=messages, stream=True):
    models.add(chunk.model)
    if chunk.choices and chunk.choices[0].delta.content:
        text += chunk.choices[0].delta.content
result["stream_text"] = text
result["stream_models"] = sorted(models)

# 2. Whole answer, with the response headers.
raw = client.chat.completions.with_raw_response.create(model=model, messages=messages)
result["header"] = raw.headers.get("x-openclaw-model")
result["attempts"] = raw.headers.get("x-openclaw-attempts")
result["model"] = raw.parse().model

# 3. Opting out: the primary's own error.
try:
    client.chat.completions.create(
        model=model, messages=messages, extra_headers={"x-openclaw-failover": "off"}
    )
except openai.RateLimitError as e:
    result["opt_out_status"] = e.status_code

print(json.dumps(result))

"""The official `anthropic` package with a request guardrail (extension field, `extra_body`)
against `openclaw gateway`: the intervention is a `refusal` stop, streamed and not.

Run by tests/tests/e2e/gateway/structured.rs with ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY, MODEL,
GUARDRAIL_ID and GUARDRAIL_TRIGGER set; prints one JSON line with what it observed.
"""
import json
import os

import anthropic

client = anthropic.Anthropic()  # base URL and key from the environment
model = os.environ["MODEL"]
guardrail = {"identifier": os.environ["GUARDRAIL_ID"], "version": "1", "trace": "enabled"}
prompt = "Tell me about the " + os.environ["GUARDRAIL_TRIGGER"]
result = {}

message = client.messages.create(
    model=model,
    max_tokens=256,
    messages=[{"role": "user", "content": prompt}],
    extra_body={"guardrail": guardrail},
)
result["stop_reason"] = message.stop_reason
result["text"] = "".join(b.text for b in message.content if b.type == "text")
result["trace"] = (message.model_extra or {}).get("guardrail_trace") is not None

with client.messages.stream(
    model=model,
    max_tokens=256,
    messages=[{"role": "user", "content": prompt}],
    extra_body={"guardrail": guardrail},
) as stream:
    result["streamed_text"] = "".join(stream.text_stream)
    final = stream.get_final_message()
result["streamed_stop_reason"] = final.stop_reason

print(json.dumps(result))

"""The official `anthropic` package against `openclaw gateway`, unchanged.

Run by tests/tests/e2e/gateway.rs with ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY and MODEL set;
prints one JSON line with what it observed.
"""
import json
import os

import anthropic

client = anthropic.Anthropic()  # base URL and key from the environment
model = os.environ["MODEL"]
result = {}

# 1. A streamed text turn.
with client.messages.stream(
    model=model,
    max_tokens=256,
    messages=[{"role": "user", "content": "Hello from the anthropic package"}],
) as stream:
    result["text"] = "".join(stream.text_stream)
    final = stream.get_final_message()
result["stop_reason"] = final.stop_reason
result["output_tokens"] = final.usage.output_tokens

# 2. A streamed thinking turn: thinking text and its signature.
with client.messages.stream(
    model=model,
    max_tokens=4096,
    thinking={"type": "enabled", "budget_tokens": 1024},
    messages=[{"role": "user", "content": "Think, then answer"}],
) as stream:
    final = stream.get_final_message()
thinking = [b for b in final.content if b.type == "thinking"]
result["thinking"] = thinking[0].thinking if thinking else None
result["signature"] = thinking[0].signature if thinking else None
result["after_thinking"] = "".join(b.text for b in final.content if b.type == "text")

# 3. A tool round trip: the call streamed, then its result sent back (with the thinking turn
# replayed unchanged).
tools = [{
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}]
messages = [{"role": "user", "content": "Weather in Lisbon?"}]
with client.messages.stream(model=model, max_tokens=512, tools=tools, messages=messages) as stream:
    call_message = stream.get_final_message()
call = next(b for b in call_message.content if b.type == "tool_use")
result["tool_name"] = call.name
result["tool_id"] = call.id
result["tool_input"] = call.input
result["tool_stop_reason"] = call_message.stop_reason
messages.append({"role": "assistant", "content": call_message.content})
messages.append({"role": "user", "content": [
    {"type": "tool_result", "tool_use_id": call.id, "content": "21C and sunny"},
]})
answer = client.messages.create(model=model, max_tokens=512, tools=tools, messages=messages)
result["after_tool"] = "".join(b.text for b in answer.content if b.type == "text")

# 4. count_tokens.
counted = client.messages.count_tokens(
    model=model, messages=[{"role": "user", "content": "How many tokens?"}]
)
result["input_tokens"] = counted.input_tokens

# 5. An unknown model is the SDK's NotFoundError.
try:
    client.messages.create(model="no-such-model", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    result["error_status"] = None
except anthropic.NotFoundError as e:
    result["error_status"] = e.status_code
    result["error_type"] = e.body["error"]["type"]

print(json.dumps(result))

"""The official `openai` package against `openclaw gateway`, unchanged.

Run by tests/tests/e2e/gateway.rs with OPENAI_BASE_URL, OPENAI_API_KEY and MODEL set; prints
one JSON line with what it observed.
"""
import json
import os

import openai

client = openai.OpenAI()  # base URL and key from the environment
model = os.environ["MODEL"]
result = {}

# 1. A streamed chat.
text = ""
for chunk in client.chat.completions.create(
    model=model,
    messages=[{"role": "user", "content": "Hello from the openai package"}],
    stream=True,
    stream_options={"include_usage": True},
):
    if chunk.choices and chunk.choices[0].delta.content:
        text += chunk.choices[0].delta.content
    if chunk.usage is not None:
        result["usage_total"] = chunk.usage.total_tokens
result["text"] = text

# 2. A streamed tool call, assembled the way OpenAI documents it.
tools = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}]
messages = [{"role": "user", "content": "What is the weather in Lisbon?"}]
calls = {}
finish = None
for chunk in client.chat.completions.create(model=model, messages=messages, tools=tools, stream=True):
    if not chunk.choices:
        continue
    choice = chunk.choices[0]
    for tc in choice.delta.tool_calls or []:
        call = calls.setdefault(tc.index, {"id": None, "name": None, "arguments": ""})
        if tc.id:
            call["id"] = tc.id
        if tc.function and tc.function.name:
            call["name"] = tc.function.name
        if tc.function and tc.function.arguments:
            call["arguments"] += tc.function.arguments
    if choice.finish_reason:
        finish = choice.finish_reason
call = calls[0]
result["tool_id"] = call["id"]
result["tool_name"] = call["name"]
result["tool_args"] = json.loads(call["arguments"])
result["finish_reason"] = finish

# 3. The tool result goes back; non-streaming answer.
messages.append({"role": "assistant", "content": None, "tool_calls": [
    {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}},
]})
messages.append({"role": "tool", "tool_call_id": call["id"], "content": "21C"})
answer = client.chat.completions.create(model=model, messages=messages, tools=tools)
result["after_tool"] = answer.choices[0].message.content

# 4. Errors surface as the client's typed exceptions.
try:
    client.chat.completions.create(model="amazon-bedrock/no-such-model", messages=[{"role": "user", "content": "x"}])
except openai.NotFoundError as e:
    result["error_status"] = e.status_code

print(json.dumps(result))

"""The official `openai` package's structured outputs (`chat.completions.parse` with a pydantic
model) and a guardrail intervention against `openclaw gateway`.

Run by tests/tests/e2e/gateway/structured.rs with OPENAI_BASE_URL, OPENAI_API_KEY, MODEL,
GUARDRAIL_ID and GUARDRAIL_TRIGGER set; prints one JSON line with what it observed.
"""
import json
import os

import openai
from pydantic import BaseModel


class Person(BaseModel):
    name: str
    age: int


client = openai.OpenAI()  # base URL and key from the environment
model = os.environ["MODEL"]
result = {}

# 1. `parse` sends response_format json_schema (strict) and validates the content as Person.
parse = getattr(client.chat.completions, "parse", None) or client.beta.chat.completions.parse
completion = parse(
    model=model,
    messages=[{"role": "user", "content": "Who wrote the first program?"}],
    response_format=Person,
)
message = completion.choices[0].message
result["parsed"] = message.parsed.model_dump()
result["content"] = json.loads(message.content)
result["finish_reason"] = completion.choices[0].finish_reason
result["tool_calls"] = message.tool_calls

# 2. A guardrail from the request (extension field) intervening: finish_reason content_filter.
blocked = client.chat.completions.create(
    model=model,
    messages=[{"role": "user", "content": "Tell me about the " + os.environ["GUARDRAIL_TRIGGER"]}],
    extra_body={"guardrail": {"identifier": os.environ["GUARDRAIL_ID"], "version": "1", "trace": "enabled"}},
)
result["guardrail_finish_reason"] = blocked.choices[0].finish_reason
result["guardrail_content"] = blocked.choices[0].message.content
result["guardrail_trace"] = (blocked.model_extra or {}).get("guardrail_trace") is not None

# 3. A parameter Bedrock cannot honour is a 400 naming it.
try:
    client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hi"}], seed=7
    )
except openai.BadRequestError as e:
    result["seed_status"] = e.status_code
    result["seed_param"] = (e.body or {}).get("param")

print(json.dumps(result))

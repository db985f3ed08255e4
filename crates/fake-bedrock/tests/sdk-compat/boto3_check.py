"""boto3 compatibility check for fake-bedrock.

Usage: boto3_check.py <fake-bedrock URL>
Credentials and region come from the environment (the Rust test passes an explicit one).
The Rust test arms a throttlingException mid-stream fault for meta.llama3-8b-instruct-v1:0.
Prints BOTO3 OK on success; any failed check raises.
"""
import sys

import boto3
import botocore.exceptions

url = sys.argv[1]
print("boto3", boto3.__version__, "botocore", botocore.__version__)
session = boto3.session.Session()
control = session.client("bedrock", endpoint_url=url)
runtime = session.client("bedrock-runtime", endpoint_url=url)

# Control plane: models (with a filter) and paginated inference profiles.
models = control.list_foundation_models()["modelSummaries"]
assert any(m["modelId"] == "anthropic.claude-3-haiku-20240307-v1:0" for m in models), models
embedding = control.list_foundation_models(byOutputModality="EMBEDDING")["modelSummaries"]
assert embedding and all("TEXT" not in m["outputModalities"] for m in embedding)
profiles = []
for page in control.get_paginator("list_inference_profiles").paginate(PaginationConfig={"PageSize": 4}):
    profiles.extend(p["inferenceProfileId"] for p in page["inferenceProfileSummaries"])
assert any(p.startswith("us.") for p in profiles) and any(p.startswith("global.") for p in profiles), profiles
print(f"listed {len(models)} models, {len(profiles)} profiles")

# Runtime: a stream with reasoning, text and a tool call (default generator).
tool = {"toolSpec": {"name": "get_weather", "description": "Weather for a city",
                     "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}},
                                              "required": ["city"]}}}}
resp = runtime.converse_stream(
    modelId="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    messages=[{"role": "user", "content": [{"text": "use tool get_weather please"}]}],
    toolConfig={"tools": [tool]},
    additionalModelRequestFields={"thinking": {"type": "enabled", "budget_tokens": 1024}},
)
kinds, text, reasoning, signature, tool_input, tool_name, stop, usage = [], "", "", "", "", None, None, None
for event in resp["stream"]:
    (kind, body), = event.items()
    kinds.append(kind)
    if kind == "contentBlockStart":
        tool_name = body["start"]["toolUse"]["name"]
    elif kind == "contentBlockDelta":
        d = body["delta"]
        text += d.get("text", "")
        tool_input += d.get("toolUse", {}).get("input", "")
        r = d.get("reasoningContent", {})
        reasoning += r.get("text", "")
        signature += r.get("signature", "")
    elif kind == "messageStop":
        stop = body["stopReason"]
    elif kind == "metadata":
        usage = body["usage"]
assert text == "Calling get_weather.", text
assert reasoning == "Thinking about: use tool get_weather please", reasoning
assert signature, "signature"
assert tool_name == "get_weather" and '"city"' in tool_input, (tool_name, tool_input)
assert stop == "tool_use", stop
assert usage["totalTokens"] > 0, usage
assert kinds[0] == "messageStart" and kinds[-1] == "metadata", kinds
print("stream ok:", " ".join(dict.fromkeys(kinds)))

# Non-streaming converse.
out = runtime.converse(modelId="anthropic.claude-3-haiku-20240307-v1:0",
                       messages=[{"role": "user", "content": [{"text": "hello"}]}])
assert out["output"]["message"]["content"][0]["text"] == "Echo: hello", out

# HTTP errors are parsed into modeled exceptions.
try:
    runtime.converse(modelId="anthropic.claude-sonnet-4-5-20250929-v1:0",
                     messages=[{"role": "user", "content": [{"text": "hi"}]}])
    raise AssertionError("expected ValidationException")
except runtime.exceptions.ValidationException as e:
    assert "on-demand throughput" in str(e), e
try:
    control.get_foundation_model(modelIdentifier="nope.model-v1:0")
    raise AssertionError("expected ResourceNotFoundException")
except control.exceptions.ResourceNotFoundException:
    pass

# An exception frame mid-stream surfaces as an EventStreamError with its code.
resp = runtime.converse_stream(modelId="meta.llama3-8b-instruct-v1:0",
                               messages=[{"role": "user", "content": [{"text": "stream then fail"}]}])
seen = 0
try:
    for _ in resp["stream"]:
        seen += 1
    raise AssertionError("expected an exception frame")
except botocore.exceptions.EventStreamError as e:
    assert e.response["Error"]["Code"] == "throttlingException", e.response
    assert seen == 2, seen

# A wrong secret is refused with the AWS error.
bad = boto3.session.Session(aws_access_key_id=session.get_credentials().access_key,
                            aws_secret_access_key="wrong", region_name="us-east-1")
try:
    bad.client("bedrock", endpoint_url=url).list_foundation_models()
    raise AssertionError("expected a signature error")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidSignatureException", e.response

print("BOTO3 OK")

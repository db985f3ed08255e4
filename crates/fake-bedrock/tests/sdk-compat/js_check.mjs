// JS v3 SDK compatibility check for fake-bedrock.
// Usage: NODE_PATH=<dir with @aws-sdk/client-bedrock{,-runtime}> node js_check.mjs <fake URL>
// (from a directory where those packages are installed). Prints "JS OK" on success.
// KNOWN GAP: @aws-sdk 3.1163 signs an HTTP/2-style `:authority` pseudo-header even over HTTP/1.1;
// fake-bedrock recomputes SigV4 with aws-sigv4, which cannot canonicalise that name, so the
// runtime calls fail with InvalidSignatureException until the verifier maps `:authority` to Host.
import { createRequire } from "node:module";
const require = createRequire(process.cwd() + "/");
const { BedrockRuntimeClient, ConverseStreamCommand, ConverseCommand } = require("@aws-sdk/client-bedrock-runtime");
const { BedrockClient, ListFoundationModelsCommand } = require("@aws-sdk/client-bedrock");

const url = process.argv[2];
const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const cfg = { endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 };
const assert = (c, m) => { if (!c) throw new Error("check failed: " + m); };

const control = new BedrockClient(cfg);
const models = (await control.send(new ListFoundationModelsCommand({ byProvider: "Anthropic" }))).modelSummaries;
assert(models.length > 0 && models.every((m) => m.providerName === "Anthropic"), "byProvider");

const runtime = new BedrockRuntimeClient(cfg);
const tool = { toolSpec: { name: "get_weather", inputSchema: { json: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } } };
const resp = await runtime.send(new ConverseStreamCommand({
  modelId: "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
  messages: [{ role: "user", content: [{ text: "use tool get_weather" }] }],
  toolConfig: { tools: [tool] },
  additionalModelRequestFields: { thinking: { type: "enabled", budget_tokens: 1024 } },
}));
let text = "", reasoning = "", signature = "", input = "", stop, usage, kinds = [];
for await (const ev of resp.stream) {
  const kind = Object.keys(ev).find((k) => ev[k] !== undefined);
  kinds.push(kind);
  const d = ev.contentBlockDelta?.delta;
  if (d) { text += d.text ?? ""; input += d.toolUse?.input ?? ""; reasoning += d.reasoningContent?.text ?? ""; signature += d.reasoningContent?.signature ?? ""; }
  if (ev.messageStop) stop = ev.messageStop.stopReason;
  if (ev.metadata) usage = ev.metadata.usage;
}
assert(text === "Calling get_weather.", text);
assert(reasoning.startsWith("Thinking about:") && signature, "reasoning");
assert(JSON.parse(input).city, input);
assert(stop === "tool_use" && usage.totalTokens > 0, "stop/usage");

try {
  await runtime.send(new ConverseCommand({ modelId: "anthropic.claude-sonnet-4-5-20250929-v1:0", messages: [{ role: "user", content: [{ text: "hi" }] }] }));
  assert(false, "expected ValidationException");
} catch (e) {
  assert(e.name === "ValidationException" && /on-demand/.test(e.message), e.name + " " + e.message);
}
const bad = new BedrockRuntimeClient({ ...cfg, credentials: { ...credentials, secretAccessKey: "wrong" } });
try {
  await bad.send(new ConverseCommand({ modelId: "anthropic.claude-3-haiku-20240307-v1:0", messages: [{ role: "user", content: [{ text: "hi" }] }] }));
  assert(false, "expected signature error");
} catch (e) {
  assert(e.name === "InvalidSignatureException", e.name);
}
console.log("events:", [...new Set(kinds)].join(" "));
console.log("JS OK");

// JavaScript v3 SDK compatibility check for fake-bedrock (the counterpart of boto3_check.py).
//
// Usage: FAKE_BEDROCK_NODE_MODULES=<node_modules with @aws-sdk/client-bedrock{,-runtime}> \
//        AWS_ACCESS_KEY_ID=.. AWS_SECRET_ACCESS_KEY=.. node js_check.mjs <fake URL> [bearer token]
// The Rust test (tests/it.rs, js_sdk_is_compatible) arms a throttlingException mid-stream fault
// for meta.llama3-8b-instruct-v1:0. Prints "JS OK" on success; any failed check throws.
//
// The clients run with their defaults: the runtime client talks HTTP/2 (h2c on http://) and signs
// the `:authority` pseudo-header, the control-plane client talks HTTP/1.1 and signs `host`.
import { createRequire } from "node:module";
import { join } from "node:path";

const modules = process.env.FAKE_BEDROCK_NODE_MODULES;
if (!modules) throw new Error("set FAKE_BEDROCK_NODE_MODULES to a node_modules directory");
// Resolving from a file inside node_modules searches that directory itself.
const require = createRequire(join(modules, "fake-bedrock-check.js"));
const {
  BedrockRuntimeClient, ConverseStreamCommand, ConverseCommand, ThrottlingException, ValidationException,
} = require("@aws-sdk/client-bedrock-runtime");
const {
  BedrockClient, ListFoundationModelsCommand, GetFoundationModelCommand, ResourceNotFoundException,
  paginateListInferenceProfiles,
} = require("@aws-sdk/client-bedrock");
console.log(
  "sdk versions: client-bedrock", require("@aws-sdk/client-bedrock/package.json").version,
  "client-bedrock-runtime", require("@aws-sdk/client-bedrock-runtime/package.json").version,
);

const [url, bearerToken] = process.argv.slice(2);
const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID,
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
};
// maxAttempts 1: a refused request must surface, not be retried.
const cfg = { endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 };
const check = (cond, what) => { if (!cond) throw new Error("check failed: " + what); };
const user = (text) => [{ role: "user", content: [{ text }] }];

// Control plane: models (with filters) and paginated inference profiles.
const control = new BedrockClient(cfg);
const models = (await control.send(new ListFoundationModelsCommand({}))).modelSummaries;
check(models.some((m) => m.modelId === "anthropic.claude-3-haiku-20240307-v1:0"), "haiku listed");
const anthropic = (await control.send(new ListFoundationModelsCommand({ byProvider: "Anthropic" }))).modelSummaries;
check(anthropic.length > 0 && anthropic.every((m) => m.providerName === "Anthropic"), "byProvider");
const embedding = (await control.send(new ListFoundationModelsCommand({ byOutputModality: "EMBEDDING" }))).modelSummaries;
check(embedding.length > 0 && embedding.every((m) => !m.outputModalities.includes("TEXT")), "byOutputModality");
const profiles = [];
let pages = 0;
for await (const page of paginateListInferenceProfiles({ client: control, pageSize: 4 }, {})) {
  pages += 1;
  profiles.push(...page.inferenceProfileSummaries.map((p) => p.inferenceProfileId));
}
check(pages > 1, "several pages: " + pages);
check(profiles.some((p) => p.startsWith("us.")) && profiles.some((p) => p.startsWith("global.")), profiles.join());
check(new Set(profiles).size === profiles.length, "no profile twice");
console.log(`listed ${models.length} models, ${profiles.length} profiles in ${pages} pages`);

// Runtime: a stream with reasoning, text and a tool call (default generator).
const runtime = new BedrockRuntimeClient(cfg);
const tool = {
  toolSpec: {
    name: "get_weather", description: "Weather for a city",
    inputSchema: { json: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
  },
};
const resp = await runtime.send(new ConverseStreamCommand({
  modelId: "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
  messages: user("use tool get_weather please"),
  toolConfig: { tools: [tool] },
  additionalModelRequestFields: { thinking: { type: "enabled", budget_tokens: 1024 } },
}));
let text = "", reasoning = "", signature = "", toolInput = "", toolName, stop, usage;
const kinds = [];
for await (const ev of resp.stream) {
  const kind = Object.keys(ev).find((k) => ev[k] !== undefined);
  kinds.push(kind);
  if (ev.contentBlockStart?.start?.toolUse) toolName = ev.contentBlockStart.start.toolUse.name;
  const d = ev.contentBlockDelta?.delta;
  if (d) {
    text += d.text ?? "";
    toolInput += d.toolUse?.input ?? "";
    reasoning += d.reasoningContent?.text ?? "";
    signature += d.reasoningContent?.signature ?? "";
  }
  if (ev.messageStop) stop = ev.messageStop.stopReason;
  if (ev.metadata) usage = ev.metadata.usage;
}
check(text === "Calling get_weather.", text);
check(reasoning === "Thinking about: use tool get_weather please", reasoning);
check(signature.length > 0, "signature");
check(toolName === "get_weather" && JSON.parse(toolInput).city !== undefined, toolName + " " + toolInput);
check(stop === "tool_use", stop);
check(usage.totalTokens > 0, JSON.stringify(usage));
check(kinds[0] === "messageStart" && kinds[kinds.length - 1] === "metadata", kinds.join());
console.log("stream ok:", [...new Set(kinds)].join(" "));

// Non-streaming converse.
const out = await runtime.send(new ConverseCommand({ modelId: "anthropic.claude-3-haiku-20240307-v1:0", messages: user("hello") }));
check(out.output.message.content[0].text === "Echo: hello", JSON.stringify(out.output));

// HTTP errors are parsed into modeled exceptions.
const rejects = async (promise, type, what) => {
  try {
    await promise;
  } catch (e) {
    check(e instanceof type, `${what}: got ${e.name}: ${e.message}`);
    return e;
  }
  throw new Error(`check failed: ${what}: no error`);
};
const onDemand = await rejects(
  runtime.send(new ConverseCommand({ modelId: "anthropic.claude-sonnet-4-5-20250929-v1:0", messages: user("hi") })),
  ValidationException, "ValidationException",
);
check(/on-demand throughput/.test(onDemand.message), onDemand.message);
check(onDemand.$metadata.httpStatusCode === 400, "status 400");
await rejects(control.send(new GetFoundationModelCommand({ modelIdentifier: "nope.model-v1:0" })),
  ResourceNotFoundException, "ResourceNotFoundException");

// An exception frame mid-stream is thrown by the stream iterator as the modeled exception.
const failing = await runtime.send(new ConverseStreamCommand({ modelId: "meta.llama3-8b-instruct-v1:0", messages: user("stream then fail") }));
let seen = 0;
const thrown = await rejects((async () => { for await (const _ of failing.stream) seen += 1; })(),
  ThrottlingException, "exception frame");
check(seen === 2, "events before the exception: " + seen);
check(/Too many tokens/.test(thrown.message), thrown.message);

// A Bedrock API key (bearer token) instead of SigV4.
if (bearerToken) {
  const bearer = new BedrockRuntimeClient({
    endpoint: url, region: "us-east-1", maxAttempts: 1,
    token: { token: bearerToken }, authSchemePreference: ["httpBearerAuth"],
  });
  const viaToken = await bearer.send(new ConverseCommand({ modelId: "anthropic.claude-3-haiku-20240307-v1:0", messages: user("with a token") }));
  check(viaToken.output.message.content[0].text === "Echo: with a token", "bearer converse");
}

// A wrong secret is refused with the AWS error, over HTTP/1.1 (control) and HTTP/2 (runtime).
const wrong = { ...cfg, credentials: { ...credentials, secretAccessKey: "wrong" } };
for (const [client, command] of [
  [new BedrockClient(wrong), new ListFoundationModelsCommand({})],
  [new BedrockRuntimeClient(wrong), new ConverseCommand({ modelId: "anthropic.claude-3-haiku-20240307-v1:0", messages: user("hi") })],
]) {
  try {
    await client.send(command);
    throw new Error("check failed: wrong secret accepted");
  } catch (e) {
    check(e.name === "InvalidSignatureException" && e.$metadata?.httpStatusCode === 403, `${e.name}: ${e.message}`);
  }
}

console.log("JS OK");

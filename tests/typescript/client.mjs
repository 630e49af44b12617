// One MCP session with the official TypeScript SDK, driven by tests/test_typescript_sdk.py.
//
// node client.mjs <sdk-dir> <streamable|sse> <url> <key|oauth> [api-key]
// Prints one JSON object per line: {"authorize": url} when the user must consent (then reads the
// code from stdin), and finally {"tools": [...], "result": {...}} or {"error": "..."}.
import { createInterface } from "node:readline";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [sdkDir, transportName, url, auth, apiKey] = process.argv.slice(2);
const load = (path) => import(pathToFileURL(join(sdkDir, "dist/esm", path)).href);
const { Client } = await load("client/index.js");
const { StreamableHTTPClientTransport } = await load("client/streamableHttp.js");
const { SSEClientTransport } = await load("client/sse.js");
const { UnauthorizedError } = await load("client/auth.js");

const REDIRECT_URL = "http://127.0.0.1:9/callback";
const say = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

class MemoryProvider {
  get redirectUrl() { return REDIRECT_URL; }
  get clientMetadata() {
    return {
      redirect_uris: [REDIRECT_URL],
      client_name: "TypeScript SDK test",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() { return this.client; }
  saveClientInformation(client) { this.client = client; }
  tokens() { return this.savedTokens; }
  saveTokens(tokens) { this.savedTokens = tokens; }
  redirectToAuthorization(authorizationUrl) { say({ authorize: authorizationUrl.href }); }
  saveCodeVerifier(verifier) { this.verifier = verifier; }
  codeVerifier() { return this.verifier; }
}

const options = auth === "oauth"
  ? { authProvider: new MemoryProvider() }
  : { requestInit: { headers: { "x-openphone-api-key": apiKey } } };
const open = () => transportName === "sse"
  ? new SSEClientTransport(new URL(url), options)
  : new StreamableHTTPClientTransport(new URL(url), options);

async function connect() {
  const client = new Client({ name: "typescript-sdk-test", version: "1.0.0" });
  const transport = open();
  try {
    await client.connect(transport);
    return client;
  } catch (error) {
    if (!(error instanceof UnauthorizedError) || auth !== "oauth") throw error;
  }
  const { value: code } = await lines.next();
  await transport.finishAuth(code.trim());
  const signedIn = new Client({ name: "typescript-sdk-test", version: "1.0.0" });
  await signedIn.connect(open());
  return signedIn;
}

try {
  const client = await connect();
  const { tools } = await client.listTools();
  const result = await client.callTool({ name: "list-phone-numbers", arguments: {} });
  say({ tools: tools.map((tool) => tool.name), result, protocolVersion: client.getServerVersion()?.name });
  await client.close();
  process.exit(0);
} catch (error) {
  say({ error: String(error) });
  process.exit(1);
}

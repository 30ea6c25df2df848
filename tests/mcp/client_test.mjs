// tiercached's MCP server driven by the official MCP TypeScript SDK (@modelcontextprotocol/sdk),
// as an MCP host would: over stdio (`tiercached mcp`, spawned by the SDK) and over Streamable
// HTTP (a tiercached of our own). Each transport: initialize, list tools, call every tool with
// valid and invalid arguments, and check the results; HTTP also ends its session and refuses a
// foreign Origin. The script starts its own redis-server and tiercached on free loopback ports
// and stops only those.
// Run: TIERCACHED=/path/to/tiercached node client_test.mjs  (ctest does, after `npm ci`)
// Env: TIERCACHED (required), REDIS_SERVER (default: redis-server from PATH).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const TIERCACHED = process.env.TIERCACHED;
const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';
const DEADLINE_MS = 20000;

if (!TIERCACHED) {
  console.error('client_test: set TIERCACHED to the tiercached binary');
  process.exit(2);
}

const dir = mkdtempSync(path.join(tmpdir(), 'tiercached-mcp-'));
const children = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function start(command, args, name) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  child.on('error', (e) => { output += `spawn failed: ${e.message}`; });
  children.push(child);
  return { child, output: () => output, name };
}

async function waitFor(check, what, proc) {
  const end = Date.now() + DEADLINE_MS;
  while (Date.now() < end) {
    if (proc.child.exitCode !== null) break;
    try {
      if (await check()) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not come up; its output:\n${proc.output()}`);
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

let redisUrl;
let httpPort;
let configFile;

before(async () => {
  const redisPort = await freePort();
  const redis = start(REDIS_SERVER, ['--port', String(redisPort), '--bind', '127.0.0.1',
    '--save', '', '--appendonly', 'no'], 'redis-server');
  await waitFor(() => canConnect(redisPort), 'redis-server', redis);
  redisUrl = `redis://127.0.0.1:${redisPort}`;

  httpPort = await freePort();
  configFile = path.join(dir, 'tiercached.toml');
  writeFileSync(configFile, [
    '[server]', `listen = "127.0.0.1:${httpPort}"`, 'access_log = "off"', 'log_level = "warn"',
    'threads = 2', '', '[namespaces.users]', 'default_ttl = "5m"', '', '[namespaces.small]',
    'max_value_size = 64', ''].join('\n'));
  const daemon = start(TIERCACHED, ['--config', configFile, '--redis', redisUrl], 'tiercached');
  await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).ok,
    'tiercached', daemon);
});

after(() => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  }
  rmSync(dir, { recursive: true, force: true });
});

function textOf(result) {
  assert.ok(Array.isArray(result.content) && result.content.length > 0, 'content is empty');
  assert.equal(result.content[0].type, 'text');
  return result.content[0].text;
}

async function expectToolError(client, name, args, needle) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} should fail: ${JSON.stringify(r)}`);
  assert.match(textOf(r), needle);
}

// The same checks over either transport; `prefix` keeps the two runs' keys apart.
async function exerciseTools(client, prefix) {
  const info = client.getServerVersion();
  assert.equal(info.name, 'tiercached');
  assert.ok(client.getServerCapabilities().tools, 'the server offers tools');
  assert.ok(client.getInstructions().includes('cache_stats'));

  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(),
    ['cache_get', 'cache_invalidate', 'cache_set', 'cache_stats']);
  for (const t of tools) {
    assert.equal(t.inputSchema.type, 'object');
    assert.ok(t.outputSchema, `${t.name} has an output schema`);
    assert.ok(t.description.length > 80, `${t.name} has a description a model can use`);
  }

  // cache_set and cache_get, valid: the SDK also checks structuredContent against outputSchema.
  const key = `${prefix}:user:1`;
  let r = await client.callTool({ name: 'cache_set', arguments: {
    namespace: 'users', key, value: 'Ada Lovelace', ttl: '10m', tags: [`${prefix}-team`],
    priority: 'high' } });
  assert.equal(r.isError, false, textOf(r));
  assert.deepEqual(r.structuredContent, { namespace: 'users', key, stored: true, bytes: 12,
    ttl_ms: 600000 });
  r = await client.callTool({ name: 'cache_get', arguments: { namespace: 'users', key } });
  assert.equal(r.isError, false);
  assert.equal(r.structuredContent.hit, true);
  assert.equal(r.structuredContent.value, 'Ada Lovelace');
  assert.deepEqual(JSON.parse(textOf(r)), r.structuredContent);
  r = await client.callTool({ name: 'cache_set', arguments: {
    namespace: 'users', key: `${prefix}:json`, value: { seats: [1, 2] } } });
  assert.equal(r.isError, false);
  r = await client.callTool({ name: 'cache_get',
    arguments: { namespace: 'users', key: `${prefix}:json` } });
  assert.equal(r.structuredContent.content_type, 'application/json');
  assert.deepEqual(JSON.parse(r.structuredContent.value), { seats: [1, 2] });
  r = await client.callTool({ name: 'cache_get',
    arguments: { namespace: 'users', key: `${prefix}:absent` } });
  assert.equal(r.isError, false);
  assert.equal(r.structuredContent.hit, false);

  // cache_set and cache_get, invalid: error results that say what is expected.
  await expectToolError(client, 'cache_get', { namespace: 'nope', key: 'k' }, /use one of: /);
  await expectToolError(client, 'cache_get', { namespace: 'users' },
    /missing required argument 'key'/);
  await expectToolError(client, 'cache_set', { namespace: 'users', key: `${prefix}:bad`,
    value: 'v', ttl: 'soon' }, /not a duration \(as 90s, 10m/);
  await expectToolError(client, 'cache_set', { namespace: 'users', key: `${prefix}:bad`,
    value: 'v', priority: 'urgent' }, /priority must be one of/);
  await expectToolError(client, 'cache_set', { namespace: 'users', key: `${prefix}:bad` },
    /exactly one of 'value'/);
  await expectToolError(client, 'cache_set', { namespace: 'small', key: `${prefix}:bad`,
    value: 'x'.repeat(100) }, /at most 64/);
  await expectToolError(client, 'cache_set', { namespace: 'users', key: `${prefix}:bad`,
    value: 'v', colour: 'red' }, /unknown argument 'colour'/);
  r = await client.callTool({ name: 'cache_get',
    arguments: { namespace: 'users', key: `${prefix}:bad` } });
  assert.equal(r.structuredContent.hit, false, 'a refused write stored nothing');

  // cache_invalidate, valid and invalid.
  await expectToolError(client, 'cache_invalidate', { namespace: 'users' }, /name something/);
  await expectToolError(client, 'cache_invalidate', { namespace: 'users', all: 'yes' },
    /all must be a boolean/);
  r = await client.callTool({ name: 'cache_invalidate',
    arguments: { namespace: 'users', tags: [`${prefix}-team`] } });
  assert.equal(r.isError, false);
  assert.equal(r.structuredContent.tags_invalidated, 1);
  r = await client.callTool({ name: 'cache_get', arguments: { namespace: 'users', key } });
  assert.equal(r.structuredContent.hit, false, 'the tagged value is gone');
  r = await client.callTool({ name: 'cache_invalidate',
    arguments: { namespace: 'users', keys: [`${prefix}:json`] } });
  assert.equal(r.structuredContent.keys_deleted, 1);
  r = await client.callTool({ name: 'cache_invalidate',
    arguments: { namespace: 'users', pattern: `${prefix}:*` } });
  assert.equal(r.isError, false);

  // cache_stats, valid and invalid.
  r = await client.callTool({ name: 'cache_stats', arguments: {} });
  assert.equal(r.isError, false);
  assert.equal(r.structuredContent.mode, 'two_tier');
  assert.ok(r.structuredContent.namespaces.users.hits >= 2);
  r = await client.callTool({ name: 'cache_stats', arguments: { namespace: 'small' } });
  assert.deepEqual(Object.keys(r.structuredContent.namespaces), ['small']);
  await expectToolError(client, 'cache_stats', { namespace: 7 }, /namespace must be a string/);

  // An unknown tool is a protocol error (-32602), which the SDK throws.
  await assert.rejects(client.callTool({ name: 'cache_explode', arguments: {} }),
    (e) => e.code === -32602 && /unknown tool/.test(e.message));
}

describe('tiercached MCP', () => {
  test('over stdio (tiercached mcp)', { timeout: 60000 }, async () => {
    const transport = new StdioClientTransport({
      command: TIERCACHED,
      args: ['mcp', '--config', configFile, '--redis', redisUrl],
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d) => { stderr += d; });
    const client = new Client({ name: 'tiercache-tests', version: '1.0.0' });
    try {
      await client.connect(transport);
      await exerciseTools(client, 'stdio');
    } catch (e) {
      e.message += `\ntiercached mcp stderr:\n${stderr}`;
      throw e;
    } finally {
      await client.close();
    }
  });

  test('over Streamable HTTP', { timeout: 60000 }, async () => {
    const url = new URL(`http://127.0.0.1:${httpPort}/mcp`);
    const transport = new StreamableHTTPClientTransport(url);
    const client = new Client({ name: 'tiercache-tests', version: '1.0.0' });
    await client.connect(transport);
    const session = transport.sessionId;
    assert.match(session, /^[0-9a-f]{32}$/);
    assert.equal(transport.protocolVersion, '2025-11-25');
    await exerciseTools(client, 'http');
    await transport.terminateSession();
    const after = await fetch(url, { method: 'POST', headers: {
      'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
      'Mcp-Session-Id': session }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    assert.equal(after.status, 404, 'the ended session is gone');
    await client.close();
  });

  test('refuses a foreign Origin over HTTP', async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/mcp`, { method: 'POST', headers: {
      'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
      Origin: 'https://evil.example' }, body: JSON.stringify({ jsonrpc: '2.0', id: 0,
      method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {},
        clientInfo: { name: 'x', version: '1' } } }) });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('mcp-session-id'), null);
  });
});

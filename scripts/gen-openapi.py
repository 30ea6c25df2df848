#!/usr/bin/env python3
# gen-openapi.py: writes docs/openapi.json (the REST API of tiercached) from the tables below.
# Run from the repository root after changing a route: python3 scripts/gen-openapi.py
import json
def ref(n): return {"$ref": f"#/components/{n}"}
err = lambda desc: {"description": desc, "content": {"application/json": {"schema": ref("schemas/Error")}}}
ns = {"name": "namespace", "in": "path", "required": True, "description": "A configured namespace: 1-64 of [A-Za-z0-9_.-].", "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$"}}
key = {"name": "key", "in": "path", "required": True, "description": "The key, percent-encoded (%2F for '/'): 1-1024 bytes, no control characters, no '.' or '..' segment.", "schema": {"type": "string", "minLength": 1, "maxLength": 1024}}
common = {"400": ref("responses/BadRequest"), "404": ref("responses/NotFound"), "503": ref("responses/Unavailable")}
def q(name, desc, schema=None, explode=False):
    p = {"name": name, "in": "query", "required": False, "description": desc, "schema": schema or {"type": "string"}}
    return p
def h(name, desc):
    return {"name": name, "in": "header", "required": False, "description": desc, "schema": {"type": "string"}}
duration = {"type": "string", "pattern": "^([0-9]+(ms|s|m|h|d))+$|^[0-9]+$", "examples": ["90s", "10m", "1h30m"]}
write_params = [
  q("ttl", "How long the value is fresh. A duration (500ms, 90s, 10m, 1h30m, 7d) or seconds; > 0 and at most the namespace's max_ttl. Default: the namespace's default_ttl.", duration),
  q("grace", "How long after that it may be served stale. Default: the namespace's grace.", duration),
  q("tag", "An invalidation tag (repeatable).", {"type": "string", "maxLength": 256}),
  q("tags", "Comma-separated tags."),
  q("dependency", "A key of this namespace the value derives from (repeatable): deleting it drops this value."),
  q("dependencies", "Comma-separated dependencies."),
  q("priority", "Who leaves L1 first when it is full.", {"type": "string", "enum": ["low", "normal", "high"]}),
  h("X-Cache-TTL", "As ttl. Giving an option both as query parameter and header is an error."),
  h("X-Cache-Grace", "As grace."), h("X-Cache-Tags", "As tags."), h("X-Cache-Dependencies", "As dependencies."), h("X-Cache-Priority", "As priority."),
]
value_headers = {
  "ETag": {"description": "The entry's version (strong).", "schema": {"type": "string"}},
  "Age": {"description": "Seconds since the value was written.", "schema": {"type": "integer"}},
  "X-Cache": {"description": "HIT, or STALE inside the grace window.", "schema": {"type": "string", "enum": ["HIT", "STALE"]}},
  "X-Cache-Tier": {"description": "Where the value came from.", "schema": {"type": "string", "enum": ["l1", "l2"]}},
  "X-Cache-Degraded": {"description": "true when Redis could not be asked.", "schema": {"type": "string"}},
}
doc = {
 "openapi": "3.1.0",
 "info": {"title": "tiercached", "version": "0.1.0",
   "description": "The tiercache daemon's HTTP API: a two-tier cache (in-process L1 + Redis L2) by namespace and key, invalidation, rate limits, statistics and health, and a caching reverse proxy for upstream APIs.\n\nEvery error is JSON of one shape: {\"error\": {\"code\": \"invalid_key\", \"message\": \"...\"}}. `code` is stable; `message` is for people. Bad input changes nothing."},
 "servers": [{"url": "http://127.0.0.1:8080"}],
 "paths": {
  "/v1/cache/{namespace}/{key}": {
   "parameters": [ns, key],
   "get": {"operationId": "getValue", "summary": "Read a value", "description": "The exact bytes written, with their Content-Type.",
     "parameters": [h("If-None-Match", "An ETag list, or *: 304 when it matches.")],
     "responses": {"200": {"description": "The value.", "headers": value_headers, "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                   "304": {"description": "Not modified (If-None-Match matched).", "headers": {"ETag": value_headers["ETag"]}},
                   "400": ref("responses/BadRequest"),
                   "404": {"description": "key_not_found, namespace_not_found.", "content": {"application/json": {"schema": ref("schemas/Error")}}},
                   "503": ref("responses/Unavailable")}},
   "put": {"operationId": "putValue", "summary": "Write a value", "description": "Write-through: Redis, then L1. The body is stored byte for byte; its Content-Type is remembered (up to 255 bytes).",
     "parameters": write_params,
     "requestBody": {"required": False, "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
     "responses": {"204": {"description": "Stored."},
                   "400": ref("responses/BadRequest"), "404": ref("responses/NotFound"),
                   "413": err("body_too_large (limits.max_body_bytes) or value_too_large (the namespace's max_value_size)."),
                   "503": ref("responses/Unavailable")}},
   "delete": {"operationId": "deleteValue", "summary": "Delete a value", "description": "From both tiers; values depending on it go too.",
     "responses": {"200": {"description": "Whether Redis had it.", "content": {"application/json": {"schema": {"type": "object", "properties": {"deleted": {"type": "boolean"}}, "required": ["deleted"]}}}}, **common}}},
  "/v1/cache/{namespace}/{key}/ttl": {
   "parameters": [ns, key],
   "get": {"operationId": "getTtl", "summary": "Time left of a value",
     "responses": {"200": {"description": "fresh_ms: fresh this long; ttl_ms: gone after this long (fresh + grace left).", "content": {"application/json": {"schema": {"type": "object", "properties": {"key": {"type": "string"}, "fresh_ms": {"type": "integer"}, "ttl_ms": {"type": "integer"}, "stale": {"type": "boolean"}}, "required": ["key", "fresh_ms", "ttl_ms", "stale"]}}}}, **common}}},
  "/v1/cache/{namespace}/batch/get": {
   "parameters": [ns],
   "post": {"operationId": "batchGet", "summary": "Read up to 1000 keys", "description": "L1 first, the rest in one Redis round trip.",
     "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": False, "required": ["keys"], "properties": {"keys": {"type": "array", "maxItems": 1000, "items": {"type": "string"}}}}}}},
     "responses": {"200": {"description": "One result per key, in order.", "content": {"application/json": {"schema": {"type": "object", "properties": {"results": {"type": "array", "items": ref("schemas/BatchResult")}}}}}}, **common}}},
  "/v1/cache/{namespace}/batch/set": {
   "parameters": [ns],
   "post": {"operationId": "batchSet", "summary": "Write up to 1000 values atomically", "description": "All land in Redis or none does (MULTI/EXEC). One set of write options for all.",
     "requestBody": {"required": True, "content": {"application/json": {"schema": ref("schemas/BatchSet")}}},
     "responses": {"200": {"description": "Stored.", "content": {"application/json": {"schema": {"type": "object", "properties": {"written": {"type": "integer"}}}}}}, "413": err("value_too_large"), **common}}},
  "/v1/cache/{namespace}/invalidate": {
   "parameters": [ns],
   "post": {"operationId": "invalidate", "summary": "Invalidate keys, tags, a pattern or the whole namespace",
     "description": "At least one member. Tags and the namespace are O(1) (version bumps); a pattern is SCAN + UNLINK in batches. Other instances' L1 copies follow through Redis tracking.",
     "requestBody": {"required": True, "content": {"application/json": {"schema": ref("schemas/Invalidate")}}},
     "responses": {"200": {"description": "What was done.", "content": {"application/json": {"schema": {"type": "object", "properties": {"keys_deleted": {"type": "integer"}, "tags_invalidated": {"type": "integer"}, "pattern_removed": {"type": "integer"}, "namespace_invalidated": {"type": "boolean"}}}}}}, **common}}},
  "/v1/ratelimit/{name}": {
   "parameters": [{"name": "name", "in": "path", "required": True, "description": "A limit configured as [ratelimits.<name>].", "schema": {"type": "string"}}],
   "post": {"operationId": "rateLimit", "summary": "Count a request against a rate limit",
     "parameters": [q("key", "Who is limited (a tenant, a user). Default: \"default\".", {"type": "string", "maxLength": 256}), q("cost", "Units this request costs. Default 1.", {"type": "integer", "minimum": 1})],
     "responses": {"200": {"description": "Admitted.", "headers": {"RateLimit-Limit": {"schema": {"type": "integer"}}, "RateLimit-Remaining": {"schema": {"type": "integer"}}, "RateLimit-Reset": {"description": "Seconds until usage is back to zero.", "schema": {"type": "integer"}}}, "content": {"application/json": {"schema": {"type": "object", "properties": {"allowed": {"type": "boolean"}, "limit": {"type": "integer"}, "remaining": {"type": "integer"}, "reset_s": {"type": "integer"}}}}}},
                   "429": {"description": "rate_limited.", "headers": {"Retry-After": {"description": "Seconds.", "schema": {"type": "integer"}}, "RateLimit-Limit": {"schema": {"type": "integer"}}, "RateLimit-Remaining": {"schema": {"type": "integer"}}, "RateLimit-Reset": {"schema": {"type": "integer"}}}, "content": {"application/json": {"schema": ref("schemas/Error")}}},
                   "400": ref("responses/BadRequest"), "404": err("ratelimit_not_found"), "503": err("ratelimit_unavailable: the daemon runs without Redis.")}}},
  "/v1/stats": {"get": {"operationId": "stats", "summary": "Hits, misses, errors and hit rate, in all and per namespace",
     "responses": {"200": {"description": "Counters since start or the last reset.", "content": {"application/json": {"schema": ref("schemas/Stats")}}}}}},
  "/v1/health": {"get": {"operationId": "health", "summary": "Health assessment: healthy, degraded or unhealthy, with reasons (seed 004's shape)",
     "description": "The last probe (PING, INFO, a bounded SCAN sample, each namespace's hit rate), re-probed when older than 5 s. Always 200: the status is in the body (/readyz is for load balancers). Without Redis: degraded, mode l1_only.",
     "responses": {"200": {"description": "The assessment.", "content": {"application/json": {"schema": ref("schemas/Health")}}}}}},
  "/{route_prefix}/{path}": {
   "parameters": [{"name": "route_prefix", "in": "path", "required": True, "description": "A proxy route's prefix from [proxy.routes.<name>] (deploy/tiercached.toml).", "schema": {"type": "string"}},
                  {"name": "path", "in": "path", "required": True, "description": "Anything below it; sent to the upstream below its base path. No '.' or '..' segments, no control bytes.", "schema": {"type": "string"}}],
   "get": {"operationId": "proxyGet", "summary": "The caching reverse proxy: an upstream API's answer, from the cache when it can",
     "description": "Routes are configured, not fixed. A GET is answered from the route's namespace (proxy.<name>) or fetched once for every concurrent caller; stale answers are served while one refresh runs and when the upstream fails. Query parameters make the key as the route's rules normalize them. Cache-Control: no-cache (or Pragma: no-cache) fetches anew and refreshes the entry. Other methods pass through uncached (X-Cache: BYPASS). See docs/decisions/0013-caching-proxy.md.",
     "parameters": [h("Cache-Control", "no-cache, no-store or max-age=0: bypass the cache and refresh it.")],
     "responses": {"200": {"description": "The upstream's answer (any status it gave that is cacheable or passed through), with its kept headers.",
                           "headers": {"X-Cache": {"description": "HIT (from the cache), MISS (fetched for this request or its single flight), STALE (past fresh: while one refresh runs, or the upstream failed), BYPASS.", "schema": {"type": "string", "enum": ["HIT", "MISS", "STALE", "BYPASS"]}},
                                       "Age": {"description": "Seconds since the upstream answered (plus its own Age).", "schema": {"type": "integer"}}},
                           "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                   "400": err("bad_target: an unsafe path or query."),
                   "429": {"description": "upstream_rate_limited: the route's upstream quota is used up and nothing stale could answer.", "headers": {"Retry-After": {"description": "Seconds.", "schema": {"type": "integer"}}}, "content": {"application/json": {"schema": ref("schemas/Error")}}},
                   "502": err("upstream_error (the upstream answered 5xx or 429; the message says which) or upstream_failed (unreachable, unreadable, too large), and nothing stale could answer."),
                   "504": err("upstream_timeout, and nothing stale could answer.")}}},
  "/mcp": {"post": {"operationId": "mcpPost", "summary": "MCP Streamable HTTP: one JSON-RPC 2.0 message",
     "description": "The MCP server (docs/decisions/0015-mcp-server.md), protocol 2025-11-25, 2025-06-18 or 2025-03-26; tools cache_get, cache_set, cache_invalidate, cache_stats. Start with initialize (no Mcp-Session-Id): the reply's Mcp-Session-Id header names the session every later request must carry. A request with an Origin that is neither loopback nor in [mcp] allowed_origins gets 403. HTTP-level refusals carry a JSON-RPC error with a null id.",
     "parameters": [h("Mcp-Session-Id", "The session, from initialize's reply; required after it."), h("MCP-Protocol-Version", "The version agreed at initialize; optional."), h("Origin", "Checked when present.")],
     "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "description": "A JSON-RPC 2.0 request or notification (an array of them under protocol 2025-03-26 only)."}}}},
     "responses": {"200": {"description": "The JSON-RPC reply: application/json, or one text/event-stream event when the client accepts only that. initialize's reply carries Mcp-Session-Id.", "headers": {"Mcp-Session-Id": {"schema": {"type": "string"}}}, "content": {"application/json": {"schema": {"type": "object"}}, "text/event-stream": {"schema": {"type": "string"}}}},
                   "202": {"description": "Notifications or responses only: nothing to answer."},
                   "400": {"description": "No Mcp-Session-Id on a request other than initialize, or an unsupported or mismatched MCP-Protocol-Version."},
                   "403": {"description": "The Origin is not allowed."},
                   "404": {"description": "Unknown or expired session (initialize again), or [mcp] enabled = false."},
                   "406": {"description": "Accept has neither application/json nor text/event-stream."},
                   "415": {"description": "Content-Type is not application/json."},
                   "503": {"description": "[mcp] max_sessions sessions are open."}}},
            "delete": {"operationId": "mcpDelete", "summary": "MCP: end a session", "parameters": [h("Mcp-Session-Id", "The session to end.")],
                       "responses": {"204": {"description": "Ended."}, "400": {"description": "No Mcp-Session-Id."}, "404": {"description": "Unknown or expired session."}}},
            "get": {"operationId": "mcpGet", "summary": "MCP: no server-initiated stream", "responses": {"405": {"description": "This server sends nothing unasked; Allow: POST, DELETE."}}}},
  "/healthz": {"get": {"operationId": "healthz", "summary": "Liveness: the process answers", "responses": {"200": {"description": "Up.", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "ok"}}}}}}}}},
  "/readyz": {"get": {"operationId": "readyz", "summary": "Readiness, and whether Redis is connected or the daemon runs on L1 alone",
     "description": "200 while serving, even with Redis down (L1 still serves and every instance shares that Redis); 503 while draining on shutdown.",
     "responses": {"200": {"description": "Ready.", "content": {"application/json": {"schema": ref("schemas/Ready")}}}, "503": {"description": "Draining.", "content": {"application/json": {"schema": ref("schemas/Ready")}}}}}},
  "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus text format 0.0.4", "responses": {"200": {"description": "Metrics.", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
  "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1.", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
  "/v1/admin/namespaces/{namespace}/clear": {"parameters": [ns], "post": {"operationId": "adminClear", "summary": "Drop every value of a namespace (O(1))", "security": [{"bearer": []}],
     "responses": {"200": {"description": "Cleared.", "content": {"application/json": {"schema": {"type": "object", "properties": {"cleared": {"type": "string"}}}}}}, "401": ref("responses/Unauthorized"), "404": err("route_not_found when no admin token is configured; namespace_not_found."), "503": ref("responses/Unavailable")}}},
  "/v1/admin/warm": {"post": {"operationId": "adminWarm", "summary": "Pre-load proxy paths and namespace keys", "security": [{"bearer": []}],
     "description": "One item at a time, in order. A proxy path is fetched as a client's GET would be (stored when cacheable); a namespace key is read so that L1 holds what Redis has. Each item reports its own outcome.",
     "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": {"paths": {"type": "array", "items": {"type": "string"}, "maxItems": 1000, "description": "Targets under a proxy route's prefix, with their query: /weather?city=Paris."}, "namespace": {"type": "string"}, "keys": {"type": "array", "items": {"type": "string"}, "maxItems": 1000}}}}}},
     "responses": {"200": {"description": "What each item did.", "content": {"application/json": {"schema": {"type": "object", "properties": {"warmed": {"type": "integer", "description": "Paths answered below 400 plus keys found."}, "results": {"type": "array", "items": {"type": "object", "properties": {"path": {"type": "string"}, "status": {"type": "integer"}, "cache": {"type": "string"}, "namespace": {"type": "string"}, "key": {"type": "string"}, "hit": {"type": "boolean"}, "error": {"type": "string"}}}}}}}}},
                   "400": ref("responses/BadRequest"), "401": ref("responses/Unauthorized"), "404": err("route_not_found when no admin token is configured; namespace_not_found.")}}},
  "/v1/admin/stats/reset": {"post": {"operationId": "adminResetStats", "summary": "Reset the counters of /v1/stats and /metrics", "security": [{"bearer": []}],
     "responses": {"200": {"description": "Reset.", "content": {"application/json": {"schema": {"type": "object", "properties": {"reset": {"type": "boolean"}}}}}}, "401": ref("responses/Unauthorized"), "404": err("route_not_found when no admin token is configured.")}}},
 },
 "components": {
  "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "server.admin_token (or TIERCACHE_ADMIN_TOKEN). Without one the admin routes do not exist (404)."}},
  "responses": {
   "BadRequest": err("Bad input, nothing changed. Codes: invalid_key, invalid_ttl, invalid_grace, invalid_tag, invalid_dependency, invalid_priority, invalid_pattern, invalid_content_type, invalid_argument, unknown_parameter, unknown_field, malformed_json, bad_target, bad_request."),
   "NotFound": err("namespace_not_found, key_not_found or route_not_found."),
   "Unavailable": err("redis_unavailable, too_many_namespaces, too_many_connections or shutting_down."),
   "Unauthorized": {"description": "unauthorized: missing or wrong bearer token.", "headers": {"WWW-Authenticate": {"schema": {"const": "Bearer"}}}, "content": {"application/json": {"schema": ref("schemas/Error")}}},
  },
  "schemas": {
   "Error": {"type": "object", "required": ["error"], "additionalProperties": False, "properties": {"error": {"type": "object", "required": ["code", "message"], "additionalProperties": False, "properties": {
      "code": {"type": "string", "description": "Stable, snake_case.", "examples": ["invalid_key", "key_not_found", "malformed_json", "body_too_large", "headers_too_large", "method_not_allowed", "rate_limited", "redis_unavailable", "internal"]},
      "message": {"type": "string"}}}}},
   "BatchResult": {"type": "object", "required": ["key", "hit"], "properties": {"key": {"type": "string"}, "hit": {"type": "boolean"}, "value": {"type": "string", "description": "The bytes, when they are UTF-8."}, "value_base64": {"type": "string", "description": "The bytes, base64, when they are not UTF-8."}, "content_type": {"type": "string"}, "etag": {"type": "string"}, "stale": {"type": "boolean"}, "error": {"type": "string", "description": "An error code when Redis could not answer for this key."}}},
   "BatchItem": {"type": "object", "additionalProperties": False, "required": ["key"], "properties": {"key": {"type": "string", "minLength": 1, "maxLength": 1024}, "value": {"type": "string"}, "value_base64": {"type": "string", "contentEncoding": "base64"}, "content_type": {"type": "string", "maxLength": 255}}, "oneOf": [{"required": ["value"]}, {"required": ["value_base64"]}]},
   "BatchSet": {"type": "object", "additionalProperties": False, "required": ["items"], "properties": {"items": {"type": "array", "minItems": 1, "maxItems": 1000, "items": ref("schemas/BatchItem")}, "ttl": duration, "grace": duration, "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 64}, "dependencies": {"type": "array", "items": {"type": "string"}, "maxItems": 64}, "priority": {"enum": ["low", "normal", "high"]}}},
   "Invalidate": {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": {"keys": {"type": "array", "items": {"type": "string"}, "maxItems": 1000}, "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 1000}, "pattern": {"type": "string", "description": "A Redis glob over the namespace's keys (escape *?[]\\ in literal parts)."}, "all": {"type": "boolean", "description": "The whole namespace."}}},
   "NamespaceStats": {"type": "object", "properties": {k: {"type": "integer"} for k in ["hits", "hits_l1", "hits_l2", "stale_served", "misses", "errors", "sets", "deletes", "write_errors", "invalidations_received", "l1_bytes", "l1_entries", "l1_capacity_bytes", "l1_evictions"]} | {"hit_rate": {"type": "number"}, "breaker": {"enum": ["closed", "open", "half_open", None], "description": "The state of the circuit breaker in front of this namespace's Redis; null without Redis."}, "degraded": {"type": "boolean", "description": "Its breaker is not closed: L1 hits are served, the rest fails fast."}}},
   "Stats": {"type": "object", "properties": {"hits": {"type": "integer"}, "misses": {"type": "integer"}, "errors": {"type": "integer"}, "hit_rate": {"type": "number", "minimum": 0, "maximum": 1}, "mode": {"enum": ["two_tier", "l1_only"]}, "degraded": {"type": "boolean", "description": "A namespace's breaker is not closed, or Redis was configured but not reached at start (as /readyz)."}, "uptime_s": {"type": "integer"}, "namespaces": {"type": "object", "additionalProperties": ref("schemas/NamespaceStats")}}},
   "Health": {"type": "object", "properties": {"health": {"type": "object", "properties": {"status": {"enum": ["healthy", "degraded", "unhealthy"]}, "issues": {"type": "array", "items": {"type": "string"}}}}, "mode": {"enum": ["two_tier", "l1_only"]}, "memory_used": {"type": ["integer", "null"]}, "memory_used_human": {"type": ["string", "null"]}, "total_keys": {"type": ["integer", "null"]}, "hit_rate": {"type": ["number", "null"], "description": "Percent."}, "namespaces": {"type": "object"}, "ttl_distribution": {"type": "object"}, "timestamp": {"type": "string"}, "redis": {"type": "object"}, "caches": {"type": "array"}, "breakers": {"type": "array"}, "keyspace_sample": {"type": "object"}}, "required": ["health", "mode"]},
   "Ready": {"type": "object", "properties": {"status": {"enum": ["ready", "draining"]}, "mode": {"enum": ["two_tier", "l1_only"]}, "redis": {"enum": ["connected", "down", "unreachable", "not_configured"], "description": "connected: answered a PING now; down: configured and reached at start, not answering now; unreachable: not reached at start (L1 only until restart); not_configured: L1 only by design."}, "degraded": {"type": "boolean", "description": "Redis is not answering, was not reached at start, or a namespace's breaker is not closed."}}},
  },
 },
}
# Sections too long for the tables above live as JSON fragments in scripts/openapi/: each holds
# "paths" (merged per method into any path already above) and "schemas".
import glob, os
for fragment in sorted(glob.glob(os.path.join(os.path.dirname(__file__), 'openapi', '*.json'))):
  part = json.load(open(fragment))
  for path, methods in part["paths"].items():
    doc["paths"].setdefault(path, {}).update(methods)
  doc["components"]["schemas"].update(part["schemas"])
json.dump(doc, open('docs/openapi.json', 'w'), indent=2)
open('docs/openapi.json', 'a').write('\n')

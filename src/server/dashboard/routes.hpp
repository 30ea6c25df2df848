#pragma once
// The dashboard's routes: the page at GET / and GET /dashboard, its files at
// GET /dashboard/{file}, and its data at GET /v1/dashboard[?since=seq] (History::report). RestApi
// adds them to its router and hands their matches to handle().
// Use: dashboard::add_routes(router);
//      if (dashboard::owns(m.route)) co_return dashboard::handle(services, req, m);
// Thread-safety: functions over the Services, safe from any thread.

#include "server/http_types.hpp"
#include "server/router.hpp"
#include "server/services.hpp"

namespace tiercache::server::dashboard {

// Route ids, clear of RestApi::Route's.
enum Route : int { page = 1000, page_alias, file, data };

void add_routes(Router& router);
bool owns(int route) noexcept;

// Files: 200 with Content-Type, a strong ETag and Cache-Control: no-cache (each load revalidates
// in one round trip), or 304 when If-None-Match matches; the page itself also carries a
// Content-Security-Policy that lets it load and connect to nothing but the daemon. Data: 200
// JSON (Cache-Control: no-store); 400 for a bad `since`; 503 when the history is not running.
Response handle(const Services& services, const Request& req, const Match& m);

}  // namespace tiercache::server::dashboard

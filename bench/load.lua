-- The requests of make bench's load tests (bench/load.py runs wrk with this script).
--
-- Arguments after "--": kind (bare, track, contact or cost), the visitors' file (one
-- line per browser: visitor cookie, CSRF cookie, CSRF form token), the visitor
-- cookie's name and a number unique to the run. Requests take the visitors in turn,
-- so each simulated browser keeps its own session (and its own row lock).
-- done() prints one line, "BENCH {json}", which bench/load.py reads.

local threads = {}

function setup(thread)
  thread:set("number", #threads)
  table.insert(threads, thread)
end

local kind, cookie_name, run_id
local visitors = {}
local turn = 0
local sent = 0
-- Read by done() through thread:get, hence global.
accepted = 0
refused = 0

function init(args)
  kind, cookie_name, run_id = args[1], args[3], tonumber(args[4])
  for line in io.lines(args[2]) do
    local visitor, csrf_cookie, token = line:match("^(%S+)%s+(%S+)%s+(%S+)$")
    table.insert(visitors, { visitor = visitor, csrf_cookie = csrf_cookie, token = token })
  end
  -- The threads start half-way round from each other, so two connections rarely
  -- wait on one visitor.
  turn = math.floor(number * #visitors / 2)
end

-- A one-time id no other request of any run sends (the forms' submission_id).
local function fresh_uuid()
  sent = sent + 1
  return string.format("%08x-%04x-4000-8000-%012x", run_id, number, sent)
end

local function cookies(visitor, with_visitor)
  local jar = "csrftoken=" .. visitor.csrf_cookie
  if with_visitor then
    jar = jar .. "; " .. cookie_name .. "=" .. visitor.visitor
  end
  return jar
end

local function form(fields)
  return table.concat(fields, "&")
end

local build = {
  bare = function(visitor)
    return wrk.format("GET", nil, { Cookie = cookies(visitor, true) })
  end,
  -- What static/js/track.js sends when a reader passes half of a treatment page.
  track = function(visitor)
    return wrk.format("POST", nil, {
      Cookie = cookies(visitor, true), ["X-CSRFToken"] = visitor.token,
      ["Content-Type"] = "application/json", Referer = "http://" .. wrk.host .. "/treatments/botox/",
    }, '{"event": "page_engagement", "page_url": "/treatments/botox/", "engagement_seconds": 25, "scroll_depth": 50}')
  end,
  -- A new visitor's first contact form, with an e-mail address never seen before:
  -- every post makes a lead.
  contact = function(visitor)
    local id = fresh_uuid()
    return wrk.format("POST", nil, {
      Cookie = cookies(visitor, false), ["Content-Type"] = "application/x-www-form-urlencoded",
      Referer = "http://" .. wrk.host .. "/contact/",
    }, form({
      "csrfmiddlewaretoken=" .. visitor.token, "first_name=Bench", "email=bench-" .. id .. "%40example.com",
      "consent_contact=on", "message=", "website=", "submission_id=" .. id,
    }))
  end,
  -- Two treatments priced with a budget, by a visitor who has been browsing.
  cost = function(visitor)
    return wrk.format("POST", nil, {
      Cookie = cookies(visitor, true), ["Content-Type"] = "application/x-www-form-urlencoded",
      Referer = "http://" .. wrk.host .. "/enhanced-cost/",
    }, form({
      "csrfmiddlewaretoken=" .. visitor.token, "line-TOTAL_FORMS=2", "line-INITIAL_FORMS=0",
      "line-MIN_NUM_FORMS=0", "line-MAX_NUM_FORMS=6", "line-0-procedure=botox", "line-0-quantity=2",
      "line-1-procedure=lip-filler", "line-1-quantity=1", "budget_range=500_1500", "website=",
      "submission_id=" .. fresh_uuid(),
    }))
  end,
}

function request()
  turn = turn % #visitors + 1
  return build[kind](visitors[turn])
end

-- Accepted: the 2xx of the tracker, the 302 to the result or thank-you page of a form.
function response(status, headers, body)
  if status < 400 then
    accepted = accepted + 1
  else
    refused = refused + 1
  end
end

function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("accepted")
    bad = bad + thread:get("refused")
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
      .. '"accepted": %d, "refused": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    ok, bad, errors.connect + errors.read + errors.write + errors.timeout))
end

-- wrk script: POST /v1/seats, each request a new email into one of many subscriptions.
--
--   wrk ... -s assign_seats.lua URL -- API_KEY POOLS_FILE TAG IDEMPOTENT
--
-- POOLS_FILE holds one subscription id a line; requests go round them, so that concurrent
-- assignments rarely queue on one pool's row. TAG makes the emails (and Idempotency-Keys, when
-- IDEMPOTENT is 1) unique across runs against the same database. Every answer other than 201
-- is counted by status; done() prints one line, "SEATLEDGER-WRK {json}", that
-- benchmarks/http_api.py reads.

local threads = {}

function setup(thread)
  thread:set("number", #threads)
  table.insert(threads, thread)
end

function init(args)
  key, pools_file, tag, idempotent = args[1], args[2], args[3], args[4] == "1"
  pools = {}
  for line in io.lines(pools_file) do
    if line ~= "" then
      table.insert(pools, line)
    end
  end
  sent = 0
  created = 0
  refused = {} -- status → count
  -- Each thread starts at its own place in the pools.
  offset = number * 7919
end

function request()
  sent = sent + 1
  local pool = pools[(offset + sent) % #pools + 1]
  local email = string.format("seat-%s-%d-%d@bench.test", tag, number, sent)
  local headers = {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json",
  }
  if idempotent then
    headers["Idempotency-Key"] = string.format("%s-%d-%d", tag, number, sent)
  end
  local body = string.format('{"subscription_id": "%s", "email": "%s"}', pool, email)
  return wrk.format("POST", "/v1/seats", headers, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  else
    refused[status] = (refused[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local created_all = 0
  local refused_all = {}
  for _, thread in ipairs(threads) do
    created_all = created_all + thread:get("created")
    for status, count in pairs(thread:get("refused")) do
      refused_all[status] = (refused_all[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(refused_all) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  local errors = summary.errors
  io.write(string.format(
    'SEATLEDGER-WRK {"duration_us": %d, "requests": %d, "created": %d, "refused": {%s}, '
      .. '"socket_errors": %d, "timeouts": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.duration, summary.requests, created_all, table.concat(parts, ", "),
    errors.connect + errors.read + errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(99)
  ))
end

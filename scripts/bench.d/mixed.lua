-- wrk script for scripts/bench.d/mixed.sh: the requests imap-data-access makes, each on a new connection
-- (`Connection: close`; the client opens a session per request). Equal parts of uploads (GET /api-key/upload/<name>,
-- then a PUT of 4-64 KiB to the presigned URL it answers), queries (one instrument, level and day) and downloads of
-- files uploaded earlier in the run. Arguments: the API key (write scope), a run id that keeps names unique and,
-- optionally, the operations to mix (default "upload,query,download").
-- Prints one JSON line: requests/s, latency percentiles, error counts.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  api_key = args[1]
  run_id = args[2]
  operations = {}
  for operation in (args[3] or "upload,query,download"):gmatch("[^,]+") do table.insert(operations, operation) end
  math.randomseed(os.time() * 1000 + id)
  serial = 0
  presigned = {}  -- upload URLs answered, waiting for their PUT
  keys = {}       -- keys stored by this thread, for downloads
  bodies = {}
  for i = 1, 32 do bodies[i] = string.rep(string.char(64 + i), math.random(4096, 65536)) end
  get_headers = { ["x-api-key"] = api_key, ["Connection"] = "close" }
  put_headers = { ["x-api-key"] = api_key, ["Connection"] = "close", ["Content-Type"] = "" }
end

-- A day of 2025 as YYYYMMDD.
local function day()
  return os.date("!%Y%m%d", 1735689600 + math.random(0, 364) * 86400)
end

function request()
  local url = table.remove(presigned, 1)
  if url then
    return wrk.format("PUT", url:match("^https?://[^/]+(/.*)$"), put_headers, bodies[math.random(#bodies)])
  end
  local operation = operations[math.random(#operations)]
  if operation == "upload" then
    serial = serial + 1
    local name = string.format("imap_swe_l1a_wrk%s-%dx%d_%s_v001.0000.cdf", run_id, id, serial, day())
    return wrk.format("GET", "/api-key/upload/" .. name, get_headers)
  elseif operation == "download" and #keys > 0 then
    return wrk.format("GET", "/api-key/download/" .. keys[math.random(#keys)], get_headers)
  end
  local date = day()
  return wrk.format("GET", "/api-key/query?instrument=swe&data_level=l1a&start_date=" .. date .. "&end_date=" .. date, get_headers)
end

-- Responses are told apart by their bodies: an upload URL is a JSON string, a stored upload an object with its key.
function response(status, headers, body)
  if status ~= 200 or body == nil then return end
  local first = body:sub(1, 1)
  if first == '"' then
    table.insert(presigned, body:match('^"(.*)"$'))
  elseif first == "{" then
    local key = body:match('"file_path": *"([^"]+)"')
    if key then table.insert(keys, key) end
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    '{"client": "wrk", "connections_per_request": 1, "seconds": %.1f, "requests": %d, "requests_per_s": %.0f, ' ..
    '"latency": {"p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}, ' ..
    '"errors": {"non_2xx": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}}\n',
    seconds, summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    errors.status, errors.connect, errors.read, errors.write, errors.timeout))
end

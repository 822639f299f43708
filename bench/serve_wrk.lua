-- wrk script for bench/serve_wrk.sh: each request asks /recommend/<random known user>/ with the
-- query in env SERVE_QUERY; when done, prints one JSON line (throughput, latency percentiles,
-- errors) that serve_wrk.sh collects. Users come from the file in env SERVE_USERS.
local users = {}
local query = os.getenv("SERVE_QUERY") or "?k=10"
for line in io.lines(os.getenv("SERVE_USERS")) do
  users[#users + 1] = line
end
math.randomseed(12345)

request = function()
  return wrk.format("GET", "/recommend/" .. users[math.random(#users)] .. "/" .. query)
end

local non200 = 0
response = function(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "seconds": %.3f, "requests_per_s": %.1f, "p50_ms": %.3f, ' ..
    '"p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, secs, summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout))
end

-- wrk script for bench/load.py: GET the paths listed in a file (one per line, in the order
-- the file gives), each thread starting at its own place in the list; count the answers by
-- status and print one summary line that load.py reads.
--   wrk -c32 -d60s -s bench/load.lua http://127.0.0.1:PORT -- paths.txt

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  index = (id * 7919) % #paths
  statuses = {}
end

function request()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts, non2xx = {}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
      if status < 200 or status > 299 then
        non2xx = non2xx + n
      end
    end
  end
  local by_status = {}
  for status, n in pairs(counts) do
    by_status[#by_status + 1] = status .. ":" .. n
  end
  table.sort(by_status)
  local e = summary.errors
  io.write(string.format(
    "LOAD requests=%d seconds=%.3f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
    "non2xx=%d connect=%d read=%d write=%d timeout=%d statuses=%s\n",
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3,
    non2xx, e.connect, e.read, e.write, e.timeout, table.concat(by_status, ",")))
end

-- A mixed taskboard workload for wrk: reads, writes and logins, each thread counting statuses
-- so that done() can report every 5xx. Tokens, project ids and credentials come from the
-- environment the script sets (SOAK_TOKENS, SOAK_PROJECTS, SOAK_EMAILS, SOAK_PASSWORD).

local function split(text)
  local out = {}
  for item in string.gmatch(text or "", "[^,]+") do out[#out + 1] = item end
  return out
end

local tokens = split(os.getenv("SOAK_TOKENS"))
local projects = split(os.getenv("SOAK_PROJECTS"))
local emails = split(os.getenv("SOAK_EMAILS"))
local password = os.getenv("SOAK_PASSWORD")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  statuses = {}
  math.randomseed(id * 7919 + os.time())
end

function request()
  counter = counter + 1
  local user = math.random(#tokens)
  local auth = { ["Authorization"] = "Bearer " .. tokens[user], ["Content-Type"] = "application/json" }
  local roll = math.random(1000)
  if roll <= 5 then
    -- 0.5 %: a login (argon2id on the server's hashing threads)
    return wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json" },
      '{"email":"' .. emails[user] .. '","password":"' .. password .. '"}')
  elseif roll <= 250 then
    -- 24.5 %: a write
    return wrk.format("POST", "/api/v1/projects/" .. projects[user] .. "/tasks", auth,
      '{"title":"soak ' .. id .. "-" .. counter .. '"}')
  elseif roll <= 600 then
    return wrk.format("GET", "/api/v1/projects/" .. projects[user] .. "/tasks?per_page=20", auth)
  else
    return wrk.format("GET", "/api/v1/projects/" .. projects[user], auth)
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, count in pairs(counts) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  local server_errors = 0
  local line = "statuses:"
  for status, count in pairs(totals) do
    line = line .. " " .. status .. "=" .. count
    if status >= 500 then server_errors = server_errors + count end
  end
  print(line)
  print("server_errors: " .. server_errors)
  print(string.format("requests: %d  req/s: %.0f  p50_ms: %.2f  p99_ms: %.2f  socket_errors: %d",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end

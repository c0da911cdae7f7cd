-- wrk script: each request reads one random subject for a purpose, with an API key.
-- Set by the benchmark through the environment: BENCH_SUBJECTS, BENCH_KEY, BENCH_PURPOSE.
local subjects = tonumber(os.getenv("BENCH_SUBJECTS"))
local key = os.getenv("BENCH_KEY")
local purpose = os.getenv("BENCH_PURPOSE")

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed)
end

request = function()
  local path = "/subjects/crm-" .. math.random(0, subjects - 1) .. "?purpose=" .. purpose
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. key})
end

response = function(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end

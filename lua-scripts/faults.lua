-- faults.lua: helpers shared by the stdlib scripts (`local faults = require("faults")`).
local M = {}

-- The zone to fault: the one given, else the zone holding most target pods.
function M.pick_zone(zone)
  if zone then return zone end
  local counts = {}
  for _, p in ipairs(cluster.pods{}) do
    if p.zone ~= "" then counts[p.zone] = (counts[p.zone] or 0) + 1 end
  end
  local best, most = nil, -1
  for _, z in ipairs(cluster.zones()) do
    if (counts[z] or 0) > most then best, most = z, counts[z] or 0 end
  end
  assert(best, "the cluster has no zones (no node carries topology.kubernetes.io/zone)")
  return best
end

-- Wait for every replica of the target to be Ready, off `zone` if given, and
-- log how long it took. Returns the wait result ({ok, elapsed, ready, desired}).
function M.await_replacement(zone, within)
  local r = wait.until_ready{ off_zone = zone, within = within or "120s" }
  if r.ok then
    log.info(string.format("%d/%d replicas Ready%s after %.1fs", r.ready, r.desired,
      zone and (" off " .. zone) or "", r.elapsed))
  else
    log.warn(r.error)
  end
  return r
end

-- Param checks, run before the first fault: a bad value stops the script
-- at its first line, with nothing touched (`within = "-5s"` must not be
-- found out after the zone was failed). Kinds: "string", "integer",
-- "duration", "zones" (a list, or text "a,b"); a table { kind, min = n }
-- adds a lower bound for integers. Absent params are not checked.
local function is_duration(v)
  if type(v) == "number" then return v >= 0 end
  if type(v) ~= "string" then return false end
  if tonumber(v) then return tonumber(v) >= 0 end
  local rest = v
  if rest == "" then return false end
  while rest ~= "" do
    local num, unit, more = rest:match("^(%d+%.?%d*)(%a+)(.*)$")
    if not num or not (unit == "ms" or unit == "us" or unit == "s" or unit == "m" or unit == "h") then return false end
    rest = more
  end
  return true
end

local kinds = {
  string = { "a string", function(v) return type(v) == "string" and v ~= "" end },
  integer = { "a whole number", function(v) return math.tointeger(tonumber(v)) ~= nil end },
  duration = { "a duration like \"90s\" or \"2m\"", is_duration },
  zones = { "a list of zones", function(v) return type(v) == "table" or (type(v) == "string" and v ~= "") end },
}

function M.check_params(schema)
  local names = {}
  for name in pairs(schema) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local rule = schema[name]
    local kind, min = rule, nil
    if type(rule) == "table" then kind, min = rule[1], rule.min end
    local v = params[name]
    if v ~= nil then
      local k = assert(kinds[kind], "check_params: unknown kind " .. tostring(kind))
      if not k[2](v) then
        error(string.format("params.%s: expected %s, got %q", name, k[1], tostring(v)), 2)
      end
      if min and math.tointeger(tonumber(v)) < min then
        error(string.format("params.%s: must be at least %d, got %s", name, min, tostring(v)), 2)
      end
    end
  end
end

-- Keep the fault in place a while (params.hold), so the timeline shows it.
function M.hold(duration)
  if duration then wait.sleep(duration) end
end

return M

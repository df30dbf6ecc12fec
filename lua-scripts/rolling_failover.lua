-- Rolling failover: fail the zones one after another. Each zone is failed,
-- the replicas must move off it, then it is restored before the next one,
-- so at most one zone is down at any time (guards.max_zones: 1 holds).
-- params: zones (default: every zone), within, hold
local faults = require("faults")
faults.check_params{ zones = "zones", within = "duration", hold = "duration" }
local zones = params.zones or cluster.zones()
if type(zones) == "string" then
  local list = {}
  for z in string.gmatch(zones, "[^,]+") do list[#list + 1] = z end
  zones = list
end

for i, zone in ipairs(zones) do
  log.info(string.format("rolling failover %d/%d: failing %s", i, #zones, zone))
  chaos.cordon_zone(zone)
  chaos.fail_zone(zone)
  log.mark(zone .. " down")
  -- Each step is a claim of its own ("the replicas left <zone>"): the SLOs
  -- judge only the end of the run, so a step that did not recover fails here.
  local r = faults.await_replacement(zone, params.within)
  if not r.ok then error("rolling failover: " .. zone .. ": " .. r.error) end
  faults.hold(params.hold)
  chaos.restore_zone(zone)
  log.mark(zone .. " restored")
end
faults.await_replacement(nil, params.within)

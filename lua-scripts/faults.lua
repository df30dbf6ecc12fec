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

-- Keep the fault in place a while (params.hold), so the timeline shows it.
function M.hold(duration)
  if duration then wait.sleep(duration) end
end

return M

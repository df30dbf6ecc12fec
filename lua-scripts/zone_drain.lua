-- Zone drain: a planned maintenance of a whole zone. Every node is cordoned
-- and its pods evicted through the eviction API, which honours the
-- PodDisruptionBudget (a 429 is retried until the timeout, as kubectl does).
-- params: zone, timeout (drain), within (replacement), hold
local faults = require("faults")
faults.check_params{ zone = "string", timeout = "duration", within = "duration", hold = "duration" }
local zone = faults.pick_zone(params.zone)

log.info("zone drain: draining " .. zone)
local r = chaos.drain_zone(zone, { timeout = params.timeout or "120s" })
log.info(string.format("evicted %d pod(s), skipped %d, failed %d, %d PDB refusal(s) retried",
  #r.evicted, #r.skipped, #r.failed, r.pdb_refusals))
for _, s in ipairs(r.skipped) do log.info("skipped " .. s.pod .. ": " .. s.reason) end
faults.await_replacement(zone, params.within)
faults.hold(params.hold)

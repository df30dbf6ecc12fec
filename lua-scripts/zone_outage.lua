-- Zone outage: a whole zone goes dark. Its nodes are cordoned and get a
-- NoExecute taint, so the taint manager evicts their pods as in a node
-- failure; the scheduler must re-place every replica in the surviving zones.
-- params: zone (default: the zone with most target pods), within, hold
local faults = require("faults")
faults.check_params{ zone = "string", within = "duration", hold = "duration" }
local zone = faults.pick_zone(params.zone)

log.info("zone outage: failing " .. zone)
chaos.cordon_zone(zone)
chaos.fail_zone(zone)
log.mark(zone .. " down")
faults.await_replacement(zone, params.within)
faults.hold(params.hold)

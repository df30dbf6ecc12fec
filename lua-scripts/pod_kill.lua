-- Pod kill: involuntary disruption. Pods of the target are deleted at once
-- (grace 0 by default), bypassing the PodDisruptionBudget, as a node crash
-- or an OOM kill would; the ReplicaSet must bring them back.
-- params: count (default 2) or percent, zone, grace, within
local faults = require("faults")
faults.check_params{ count = { "integer", min = 1 }, percent = "integer", zone = "string", grace = { "integer", min = 0 }, within = "duration" }
local r = chaos.kill_pods{
  count = params.percent == nil and (params.count or 2) or nil,
  percent = params.percent,
  zone = params.zone,
  grace = params.grace or 0,
}
log.info("killed " .. #r.killed .. " pod(s): " .. table.concat(r.killed, ", "))
faults.await_replacement(nil, params.within)

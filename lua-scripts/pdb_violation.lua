-- PDB violation: delete enough pods that the PodDisruptionBudget's budget is
-- exceeded by `by`, on purpose. The question the experiment asks: does the
-- service still meet its availability SLO when the budget is broken?
-- params: pdb (default: the target service's name), by (default 1), within
local faults = require("faults")
faults.check_params{ pdb = "string", by = { "integer", min = 1 }, grace = { "integer", min = 0 }, within = "duration" }
local pdb = params.pdb or target.service
local r = chaos.violate_pdb{ pdb = pdb, by = params.by or 1, grace = params.grace or 0 }
log.info(string.format("PDB %s (minAvailable %d): deleted %d pod(s)", pdb, r.min_available, #r.killed))
faults.await_replacement(nil, params.within)

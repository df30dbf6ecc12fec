-- Region failover: back up the target namespace in this cluster (region A),
-- fail every zone of it (NoExecute taint: its pods are evicted), declare the
-- disaster, and restore the backup in the DR cluster (region B, a context
-- named in spec.dr.clusters). Both Velero servers share one bucket: the
-- backup reaches B through Velero's backup sync. RTO runs from the disaster
-- until the restore in B passed its checks. Rollback removes what was
-- restored in B and the backup, and restores A's zones.
-- params: dr_cluster (default dr-region), namespace (default: the target's),
--         into (default: the same name in B), wait (default 5m),
--         ready_within (default 2m)
local faults = require("faults")
faults.check_params{ dr_cluster = "string", namespace = "string", into = "string", wait = "duration", ready_within = "duration" }
local ns = params.namespace or target.namespace
local b = dr.backup{ namespaces = { ns }, wait = params.wait or "5m" }
if not b.ok then error("backup " .. b.name .. " did not complete: " .. b.reason) end
for _, zone in ipairs(cluster.zones()) do
  chaos.fail_zone(zone)
end
dr.disaster{ label = "every zone of the source region failed" }
local r = dr.restore{
  backup = b,
  cluster = params.dr_cluster or "dr-region",
  into_namespace = params.into,
  wait = params.wait or "5m",
  ready_within = params.ready_within or "2m",
}
if not r.ok then
  log.error("restore " .. r.name .. " in " .. r.cluster .. ": " .. r.reason)
  return
end
log.info("restored in " .. r.cluster .. "/" .. r.namespace .. ": Ready and verified")

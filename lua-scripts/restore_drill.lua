-- Restore drill, namespace loss: back up the target namespace with Velero,
-- lose it (the disaster deletes it), restore the backup into a new
-- namespace, wait for the restored workloads to be Ready and check the data
-- against the source (objects and specs, ConfigMap/Secret contents by hash).
-- RTO runs from the deletion until the restore passed its checks; RPO is the
-- backup's age at the deletion. Rollback removes the restored namespace and
-- the backup, and restores the source namespace in place.
-- params: namespace (default: the target's), into (default: <namespace>-restored),
--         wait (backup and restore, default 5m), ready_within (default 2m),
--         check_url (optional: an HTTP check of the restored service)
local faults = require("faults")
faults.check_params{ namespace = "string", into = "string", wait = "duration", ready_within = "duration", check_url = "string" }
local ns = params.namespace or target.namespace
local b = dr.backup{ namespaces = { ns }, wait = params.wait or "5m" }
if not b.ok then error("backup " .. b.name .. " did not complete: " .. b.reason) end
log.info("backup " .. b.name .. ": " .. b.items .. " items")
dr.disaster{ delete_namespace = ns }
local r = dr.restore{
  backup = b,
  into_namespace = params.into or (ns .. "-restored"),
  wait = params.wait or "5m",
  ready_within = params.ready_within or "2m",
}
if not r.ok then
  log.error("restore " .. r.name .. " into " .. r.namespace .. ": " .. r.reason)
  return
end
if params.check_url then
  local p = probe.http{ url = params.check_url }
  if not p.ok then
    log.error("restored service failed its check: " .. (p.error or ("HTTP " .. tostring(p.status))))
    return
  end
  dr.recovered()
end
log.info("restored into " .. r.namespace .. ": Ready and verified")

-- Health of a Reflex ClusterRule or Rule (reflex.dev), for Argo CD's
-- resource.customizations.health.reflex.dev_ClusterRule and ..._Rule.
-- Healthy: Ready=True for the current generation. Degraded: Stalled=True for the
-- current generation (the rule does not load, or its actions fail). Progressing otherwise.
local hs = { status = "Progressing", message = "Waiting for the Reflex daemon to load the rule" }
local generation = obj.metadata and obj.metadata.generation
local status = obj.status
if status == nil or status.conditions == nil then
  return hs
end
local function current(c)
  return generation == nil or c.observedGeneration == nil or c.observedGeneration == generation
end
local found = {}
for _, c in ipairs(status.conditions) do
  found[c.type] = c
end
local stalled, ready, reconciling = found["Stalled"], found["Ready"], found["Reconciling"]
if stalled ~= nil and stalled.status == "True" and current(stalled) then
  hs.status = "Degraded"
  hs.message = stalled.message or stalled.reason or "Stalled"
  return hs
end
if generation ~= nil and status.observedGeneration ~= generation then
  hs.message = "Waiting for the daemon to load generation " .. tostring(generation)
  return hs
end
if ready ~= nil and ready.status == "True" and current(ready) then
  hs.status = "Healthy"
  hs.message = ready.message or "Ready"
  return hs
end
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = reconciling.message or reconciling.reason or hs.message
end
return hs

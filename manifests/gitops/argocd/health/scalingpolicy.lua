-- Argo CD health of a ScalingPolicy (Lua 5.1): Degraded when it cannot scale its target.
local hs = {status = "Progressing", message = "waiting for the llmops operator"}
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
local c = {}
for _, cond in ipairs(obj.status.conditions) do
  c[cond.type] = cond
end
if c.AbleToScale ~= nil and c.AbleToScale.status == "False" then
  hs.status = "Degraded"
  hs.message = (c.AbleToScale.reason or "") .. ": " .. (c.AbleToScale.message or "")
elseif c.ScalingActive ~= nil and c.ScalingActive.status == "True" then
  hs.status = "Healthy"
  hs.message = c.ScalingActive.message or ""
elseif c.MetricsUnavailable ~= nil and c.MetricsUnavailable.status == "True" then
  -- Holding replicas until metrics arrive: not broken, not yet acting.
  hs.message = c.MetricsUnavailable.message or "no metrics yet"
end
return hs

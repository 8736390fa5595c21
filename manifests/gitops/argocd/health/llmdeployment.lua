-- Argo CD health of an LLMDeployment, from the operator's conditions (Lua 5.1, as Argo CD runs).
local hs = {status = "Progressing", message = "waiting for the llmops operator"}
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
if obj.status.observedGeneration ~= nil and obj.metadata.generation ~= nil and obj.status.observedGeneration < obj.metadata.generation then
  hs.message = "the operator has not yet seen generation " .. obj.metadata.generation
  return hs
end
local c = {}
for _, cond in ipairs(obj.status.conditions) do
  c[cond.type] = cond
end
if c.Degraded ~= nil and c.Degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = (c.Degraded.reason or "") .. ": " .. (c.Degraded.message or "")
elseif c.Ready ~= nil and c.Ready.status == "True" and (c.Progressing == nil or c.Progressing.status ~= "True") then
  hs.status = "Healthy"
  hs.message = c.Ready.message or ""
elseif c.Ready ~= nil and c.Ready.reason == "ScaledToZero" then
  hs.status = "Suspended"
  hs.message = c.Ready.message or "scaled to zero"
else
  local p = c.Progressing or c.Ready
  if p ~= nil then hs.message = p.message or "" end
end
return hs

-- Argo CD health of a CanaryRun (Lua 5.1), from its phase.
local hs = {status = "Progressing", message = "waiting for the llmops operator"}
if obj.status == nil or obj.status.phase == nil then
  return hs
end
local phase = obj.status.phase
local message = obj.status.message or phase
if phase == "Promoted" then
  hs.status = "Healthy"
elseif phase == "RolledBack" or phase == "Failed" then
  hs.status = "Degraded"
elseif phase == "AwaitingApproval" or phase == "Paused" then
  hs.status = "Suspended"
end
hs.message = message
return hs

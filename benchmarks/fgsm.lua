-- POST an FGSM request; each request moves ε and picks a digit, like students dragging sliders
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local digits = {"00000", "00001", "00002", "00003", "00004", "00007", "00008", "00011", "00018", "00061"}
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"model": "mnist-cnn", "image": "sample:mnist-%s", "params": {"eps": %.2f}}',
                             digits[(n % #digits) + 1], 0.01 + (n % 30) / 100)
  return wrk.format(nil, "/api/v1/attacks/fgsm", nil, body)
end

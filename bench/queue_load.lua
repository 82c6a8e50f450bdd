-- wrk script for bench/queue_load.py: each wrk thread has one connection and plays one
-- kiosk + counter terminal + teller, cycling issue → call-next → start → finish, one full
-- cycle at each of its outlets in turn. One HTTP request = one operation.
--
-- Environment: BENCH_CLIENTS (a Lua file returning {[thread] = {outlets...}}), BENCH_OUT
-- (where done() writes its JSON summary), BENCH_TAG (makes Idempotency-Keys unique per run),
-- BENCH_TOUCH=1: instead of cycling, read each outlet's queue with its kiosk's and its
-- terminal's token in turn (changes nothing; every server process gets to know the devices).

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("tid", counter)
   table.insert(threads, thread)
end

local outlets, current, step, ticket, seq, tag, touch
-- Globals, read by done() through thread:get (wrk copies a table from the thread's state once,
-- at the end; joining the lists on every response cost the load generator CPU per request).
ok_count, failed_count, issued_count, cycle_count = 0, 0, 0, 0
issued_ids, failures = {}, {}

function init(args)
   outlets = dofile(os.getenv("BENCH_CLIENTS"))[tid]
   tag = os.getenv("BENCH_TAG") or "run"
   current, step, seq = 1, "issue", 0
   touch = os.getenv("BENCH_TOUCH") == "1"
end

local QUEUES = {"A", "B", "C"}

function request()
   local o = outlets[current]
   if touch then
      seq = seq + 1
      if seq % 2 == 0 then current = (current % #outlets) + 1 end
      local token = (seq % 2 == 0) and o.kiosk or o.terminal
      return wrk.format("GET", "/api/v1/outlets/" .. o.outlet .. "/queue", {
         ["Authorization"] = "Device " .. token,
      })
   end
   if step == "issue" then
      seq = seq + 1
      local body = '{"business_type": "' .. QUEUES[(seq % 3) + 1] .. '"}'
      return wrk.format("POST", "/api/v1/outlets/" .. o.outlet .. "/tickets", {
         ["Authorization"] = "Device " .. o.kiosk,
         ["Idempotency-Key"] = tag .. "-" .. tid .. "-" .. seq,
         ["Content-Type"] = "application/json",
      }, body)
   end
   local headers = {
      ["Authorization"] = "Device " .. o.terminal,
      ["Cookie"] = "sessionid=" .. o.session,
   }
   if step == "call" then
      return wrk.format("POST", "/api/v1/counters/" .. o.counter .. "/call-next", headers)
   end
   return wrk.format("POST", "/api/v1/tickets/" .. ticket .. "/" .. step, headers)
end

local function fail(status, body)
   failed_count = failed_count + 1
   if #failures < 5 then
      table.insert(failures, step .. " " .. status .. " " .. string.sub(body or "", 1, 160))
   end
end

function response(status, headers, body)
   if touch then
      if status == 200 then ok_count = ok_count + 1 else fail(status, body) end
      return
   end
   if status >= 200 and status < 300 then
      ok_count = ok_count + 1
   else
      fail(status, body)
   end
   if step == "issue" then
      if status == 201 then
         issued_count = issued_count + 1
         table.insert(issued_ids, string.match(body, '"ticket_id"%s*:%s*"([^"]+)"'))
         step = "call"
      end
   elseif step == "call" then
      if status == 200 then
         ticket = string.match(body, '"ticket_id"%s*:%s*"([^"]+)"')
         step = "start"
      else
         step = "issue"
      end
   elseif step == "start" then
      step = "finish"
   else
      if status == 200 then
         cycle_count = cycle_count + 1
      end
      current = (current % #outlets) + 1
      step = "issue"
   end
end

function done(summary, latency, requests)
   local total = {ok = 0, failed = 0, issued = 0, cycles = 0}
   local ids, notes = {}, {}
   for _, thread in ipairs(threads) do
      total.ok = total.ok + (thread:get("ok_count") or 0)
      total.failed = total.failed + (thread:get("failed_count") or 0)
      total.issued = total.issued + (thread:get("issued_count") or 0)
      total.cycles = total.cycles + (thread:get("cycle_count") or 0)
      for _, id in ipairs(thread:get("issued_ids") or {}) do table.insert(ids, id) end
      for _, note in ipairs(thread:get("failures") or {}) do table.insert(notes, note) end
   end
   local out = io.open(os.getenv("BENCH_OUT"), "w")
   out:write(string.format(
      '{"duration_us": %d, "requests": %d, "ok": %d, "failed": %d, "issued": %d, "cycles": %d, '
         .. '"socket_errors": %d, "timeouts": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
      summary.duration, summary.requests, total.ok, total.failed, total.issued, total.cycles,
      summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout,
      latency:percentile(50), latency:percentile(99), latency.max))
   out:write(table.concat(ids, ","), "\n")
   out:write(table.concat(notes, "\n"), "\n")
   out:close()
end

// The migrations list, the run page (live progress: a bar per phase, rate, ETA, quota, and
// pause/resume/cancel) and the report. Live updates come from the server-sent events stream
// when Ferry offers it, else from polling every 2 s.
"use strict";
(function () {
  const { api, raw, $, el, row, when, facts, lozenge, showError, resize, bars, line, views } = window.ferry;
  const FINISHED = ["completed", "failed", "cancelled"];
  const PHASES = ["preflight", "create", "followup", "sprints", "done"];
  const KIND_NAMES = { remote: "Links back to ADO", link: "Issue links", file: "Attachments", images: "Inline images", comment: "Comments", transition: "Statuses", parent: "Parents" };
  const count = (list, state) => (list || []).filter((c) => c.state === state).reduce((a, c) => a + c.items, 0);
  const pct = (a, b) => (b ? Math.floor((100 * a) / b) + "%" : "—");
  function duration(secs) {
    if (!isFinite(secs) || secs < 0) return "—";
    if (secs < 90) return Math.round(secs) + " s";
    if (secs < 5400) return Math.round(secs / 60) + " min";
    return (secs / 3600).toFixed(1) + " h";
  }

  // ---- list ---------------------------------------------------------------------------------
  views.list = {
    async show() {
      const runs = await api("GET", "/api/migrations?limit=50");
      const body = $("run-rows");
      body.replaceChildren();
      for (const r of runs) {
        const status = el("span");
        lozenge(status, r.status);
        const done = r.itemsCreated + r.itemsFailed;
        const progress = el("span", {}, r.itemsTotal ? done + " of " + r.itemsTotal + " items (" + pct(done, r.itemsTotal) + ")" : "—");
        const open = el("a", { href: "#/runs/" + encodeURIComponent(r.id) }, "Open");
        open.setAttribute("aria-label", "Open the migration to " + r.projectKey + " started " + when(r.createdAt));
        body.appendChild(row([when(r.createdAt), r.projectKey, status, progress, r.startedBy, open]));
      }
      $("list-empty").hidden = runs.length > 0;
      $("list-table").hidden = runs.length === 0;
    },
  };

  // ---- run page -------------------------------------------------------------------------------
  let live = null; // { id, stop() }
  let samples = [];

  function phaseRows(v) {
    const run = v.run, total = run.itemsTotal || 0, at = PHASES.indexOf(run.phase);
    const created = count(v.items, "created"), failed = count(v.items, "failed"), skipped = count(v.items, "skipped");
    const rows = [{
      label: "Preflight", total: 1, note: at > 0 ? "done" : run.status === "running" ? "checking" : "waiting",
      parts: [{ value: at > 0 ? 1 : 0, kind: "done" }],
    }, {
      label: "Create issues", total,
      note: total ? created + " of " + total + (failed ? " · " + failed + " failed" : "") : "waiting",
      parts: [{ value: created, kind: "done" }, { value: skipped, kind: "skipped" }, { value: failed, kind: "failed" }],
    }];
    if (typeof v.followed === "number") {
      rows.push({
        label: "Follow-up per issue", total: created,
        note: created ? v.followed + " of " + created + " issues" : "waiting",
        parts: [{ value: v.followed, kind: "done" }],
      });
    }
    const kinds = [...new Set((v.steps || []).map((s) => s.kind))];
    for (const k of kinds) {
      const of = (v.steps || []).filter((s) => s.kind === k);
      const done = count(of, "done"), bad = count(of, "failed"), sent = count(of, "sent");
      rows.push({
        label: KIND_NAMES[k] || k, total: done + bad + sent + (at <= 2 && run.status !== "completed" ? Math.max(0, created - done - bad - sent) : 0),
        note: done + " written" + (bad ? " · " + bad + " failed" : ""),
        parts: [{ value: done, kind: "done" }, { value: bad, kind: "failed" }],
      });
    }
    rows.push({
      label: "Sprints", total: 1, note: at > 3 ? "done" : at === 3 ? "moving issues" : "waiting",
      parts: [{ value: at > 3 ? 1 : 0, kind: "done" }],
    });
    return rows;
  }

  function render(v) {
    const run = v.run;
    lozenge($("run-status"), run.status);
    const total = run.itemsTotal || 0;
    const created = count(v.items, "created"), failed = count(v.items, "failed");
    const written = created + failed + (v.steps || []).filter((s) => s.state !== "sent").reduce((a, s) => a + s.items, 0);
    const now = Date.now();
    if (!samples.length || now - samples[samples.length - 1].t >= 1000) samples.push({ t: now, items: created + failed, written });
    if (samples.length > 600) samples.shift();
    // Rate over the last 30 s of samples.
    const recent = samples.filter((s) => now - s.t <= 30000);
    const a = recent[0], b = recent[recent.length - 1];
    const secs = a && b ? (b.t - a.t) / 1000 : 0;
    // A finished run shows its average; a live one the last 30 s.
    const ran = ((run.finishedAt || now) - run.createdAt) / 1000;
    const finished = FINISHED.includes(run.status);
    const itemRate = finished ? (created + failed) / Math.max(1, ran) : secs > 0 ? (b.items - a.items) / secs : 0;
    const writeRate = finished ? written / Math.max(1, ran) : secs > 0 ? (b.written - a.written) / secs : 0;
    const remaining = Math.max(0, total - created - failed);
    const budget = v.budget || run.budget || null;
    const eta = finished ? when(run.finishedAt) + " (took " + duration(ran) + ")"
      : budget && budget.etaSecs != null ? duration(budget.etaSecs)
      : run.status === "paused" ? "paused"
      : remaining && itemRate > 0 ? duration(remaining / itemRate) + " for the remaining issues"
      : remaining ? "measuring…" : "finishing follow-up work";
    const pairs = [
      ["Items", total ? created + " created, " + failed + " failed of " + total + " (" + pct(created + failed, total) + ")" : "counting…"],
      ["Phase", run.phase],
      [finished ? "Average rate" : "Rate", run.status === "paused" ? "paused" : (itemRate * 60).toFixed(0) + " issues/min · " + (writeRate * 60).toFixed(0) + " writes/min"],
      [finished ? "Finished" : "Time left", eta],
      ["Jira quota", quota(budget)],
      ["Started", when(run.createdAt) + " by " + run.startedBy],
    ];
    if (run.error) pairs.push(["Error", run.error]);
    facts($("run-facts"), pairs);
    bars($("run-phases"), phaseRows(v), "Progress per phase");
    // Writes per minute, averaged over the 10 s before each sample (polls come every 2 s).
    const pts = [];
    for (let i = 1, j = 0; i < samples.length; i++) {
      while (samples[i].t - samples[j].t > 10000) j++;
      const k = j < i ? j : i - 1, dt = (samples[i].t - samples[k].t) / 60000;
      pts.push({ t: samples[i].t, v: dt > 0 ? (samples[i].written - samples[k].written) / dt : 0 });
    }
    if (finished && pts.length < 2) {
      $("run-throughput").replaceChildren(el("p", { class: "subtle" }, "The run ended before this page opened: its average rate is above."));
    } else line($("run-throughput"), pts, "Writes per minute since this page opened", "writes/min");
    const s = run.status, asked = run.control;
    $("run-pause").hidden = !(s === "running" || s === "queued") || asked === "pause";
    $("run-resume").hidden = s !== "paused";
    $("run-cancel").hidden = FINISHED.includes(s) || asked === "cancel";
    $("run-report-link").hidden = !FINISHED.includes(s) && created + failed === 0;
    $("run-control").textContent = asked === "pause" ? "Pausing at the next checkpoint…" : asked === "cancel" ? "Cancelling at the next checkpoint…" : "";
    if (FINISHED.includes(s) && live) live.stop();
    resize();
  }
  function quota(budget) {
    if (!budget) return "not reported";
    const wait = budget.waitingFor
      ? " · waiting for " + budget.waitingFor + (budget.waitingUntil ? " until " + new Date(budget.waitingUntil).toLocaleTimeString() : "")
      : "";
    if (budget.capacity) {
      return budget.tenantSpent + " points spent by this site this window; " + budget.spent + " of " +
        budget.capacity + " by all sites (" + pct(budget.spent, budget.capacity) + ")" + wait;
    }
    return Object.entries(budget).map(([k, val]) => k + ": " + (typeof val === "object" ? JSON.stringify(val) : val)).join(" · ");
  }

  async function refresh(id) {
    const v = await api("GET", "/api/migrations/" + encodeURIComponent(id));
    if (live && live.id === id) render(v);
    return v;
  }
  // Live updates: SSE read through fetch (it carries the Authorization header), else polling.
  function watch(id) {
    let stopped = false, timer = null;
    const ctl = new AbortController();
    live = { id, stop() { stopped = true; ctl.abort(); clearTimeout(timer); } };
    const poll = async () => {
      if (stopped) return;
      try { await refresh(id); } catch (e) { showError(e); }
      if (!stopped) timer = setTimeout(poll, 2000);
    };
    (async () => {
      try {
        const res = await raw("GET", "/api/migrations/" + encodeURIComponent(id) + "/events");
        if (!res.ok || !res.body || !(res.headers.get("content-type") || "").includes("text/event-stream")) throw new Error("no stream");
        $("run-live").textContent = "Live: updates as the run writes.";
        const reader = res.body.getReader(), dec = new TextDecoder();
        let pending = false, buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done || stopped) break;
          buf += dec.decode(value, { stream: true });
          if (buf.includes("\n\n") && !pending) {
            buf = buf.slice(buf.lastIndexOf("\n\n") + 2);
            pending = true;
            setTimeout(() => { pending = false; refresh(id).catch(showError); }, 500);
          }
        }
        if (!stopped) poll();
      } catch (_) {
        if (!stopped) { $("run-live").textContent = "Updated every 2 seconds."; poll(); }
      }
    })();
  }
  async function control(action) {
    try { await api("POST", "/api/migrations/" + encodeURIComponent(live.id) + "/" + action); await refresh(live.id); } catch (e) { showError(e); }
  }
  $("run-pause").onclick = () => control("pause");
  $("run-resume").onclick = () => control("resume");
  $("run-cancel").onclick = () => { $("cancel-confirm").hidden = false; $("cancel-no").focus(); resize(); };
  $("cancel-no").onclick = () => { $("cancel-confirm").hidden = true; $("run-cancel").focus(); };
  $("cancel-yes").onclick = () => { $("cancel-confirm").hidden = true; control("cancel"); };

  views.run = {
    async show({ id }) {
      samples = [];
      $("cancel-confirm").hidden = true;
      $("run-report-link").href = "#/runs/" + encodeURIComponent(id) + "/report";
      const v = await api("GET", "/api/migrations/" + encodeURIComponent(id));
      const m = await api("GET", "/api/mappings/" + encodeURIComponent(v.run.mappingId)).catch(() => null);
      $("run-project").textContent = m ? m.projectKey : "Jira";
      live = { id, stop() {} };
      render(v);
      if (!FINISHED.includes(v.run.status)) watch(id);
    },
    hide() { if (live) live.stop(); live = null; },
  };

  // ---- report ----------------------------------------------------------------------------------
  views.report = {
    async show({ id }) {
      $("report-back").href = "#/runs/" + encodeURIComponent(id);
      const v = await api("GET", "/api/migrations/" + encodeURIComponent(id));
      const m = await api("GET", "/api/mappings/" + encodeURIComponent(v.run.mappingId)).catch(() => null);
      $("report-project").textContent = m ? m.projectKey : "Jira";
      lozenge($("report-status"), v.run.status);
      const report = await api("GET", "/api/migrations/" + encodeURIComponent(id) + "/report").catch((e) => { if (e.status === 404 || e.status === 405) return null; throw e; });
      const created = count(v.items, "created"), failed = count(v.items, "failed"), skipped = count(v.items, "skipped");
      const stepsFailed = count(v.steps, "failed"), stepsDone = count(v.steps, "done");
      facts($("report-facts"), [
        ["Issues created", created], ["Items that failed", failed], ["Items skipped", skipped],
        ["Sub-items written", stepsDone + " (comments, links, attachments, statuses)"], ["Sub-items that failed", stepsFailed],
        ["Started", when(v.run.createdAt) + " by " + v.run.startedBy], ["Finished", v.run.finishedAt ? when(v.run.finishedAt) : "not yet"],
      ]);
      // Problems by kind: from the report's failures when Ferry has them, else from the counts.
      const failures = report && Array.isArray(report.failures) ? report.failures : null;
      const byKind = new Map();
      if (failures) for (const f of failures) { const k = f.code || f.errorCode || f.kind || "failed"; byKind.set(k, (byKind.get(k) || 0) + 1); }
      else {
        if (failed) byKind.set("items", failed);
        for (const s of v.steps || []) if (s.state === "failed") byKind.set(KIND_NAMES[s.kind] || s.kind, s.items);
      }
      const chartRows = [...byKind.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => ({ label: k, total: 0, note: String(n), parts: [{ value: n, kind: "failed" }] }));
      if (chartRows.length) bars($("report-chart"), chartRows, "Problems by kind");
      else { $("report-chart").replaceChildren(el("p", { class: "subtle" }, "No problems.")); }
      $("report-none").hidden = !(failures ? failures.length === 0 : failed + stepsFailed === 0);
      const table = $("report-table");
      table.hidden = !(failures && failures.length);
      if (failures && failures.length) {
        const cols = Object.keys(failures[0]);
        $("report-head").replaceChildren(el("tr", {}, ...cols.map((c) => el("th", { scope: "col" }, c))));
        const body = $("report-rows"); body.replaceChildren();
        for (const f of failures.slice(0, 500)) body.appendChild(row(cols.map((c) => f[c])));
      }
      // The CSV is offered only when Ferry serves it (an older Ferry has no report yet).
      const csv = await raw("GET", "/api/migrations/" + encodeURIComponent(id) + "/report.csv").catch(() => null);
      const btn = $("report-csv");
      btn.hidden = !(csv && csv.ok);
      if (csv && csv.ok) {
        const blob = await csv.blob();
        btn.onclick = () => {
          const a = el("a", { href: URL.createObjectURL(blob), download: "ferry-report-" + id + ".csv" });
          document.body.append(a); a.click(); a.remove();
        };
      }
    },
  };
})();

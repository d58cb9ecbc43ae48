// The mapping and dry-run sections: draft, review (every rule with its confidence), edit, save
// with the version seen, approve, export/import, dry run with problems grouped and previews.
// Text goes in with textContent; the preview is Ferry's escaped rendering in a sandboxed frame.
"use strict";
(function () {
  const { api, row } = window.ferry || {};
  const $ = (id) => document.getElementById(id);
  if (!api || !$("mapping")) return;
  let catalogId = null, current = null;

  function option(value, label, selected) {
    const o = document.createElement("option");
    o.value = value; o.textContent = label; o.selected = selected;
    return o;
  }
  function select(label, choices, value, onChange) {
    const s = document.createElement("select");
    s.setAttribute("aria-label", label);
    s.appendChild(option("", "— leave out —", value == null));
    for (const [v, l] of choices) s.appendChild(option(v, l, v === value));
    s.onchange = () => onChange(s.value || null);
    return s;
  }
  // A rule a model suggested (suggestedBy) is always worth a look, whatever its confidence.
  function confidence(c, by) {
    const span = document.createElement("span");
    span.textContent = Math.round(c * 100) + "%" + (by ? " · " + by : "");
    span.className = c < 0.6 || by ? "badge review" : "badge";
    if (c < 0.6 || by) span.title = by ? "Suggested by a model (" + by + "): check it" : "Worth a look";
    return span;
  }
  // The admin's choice: certain, and no longer the model's.
  function decided(r) { r.confidence = 1; delete r.suggestedBy; }
  function llmNote(l) {
    if (!l) return "";
    if (l.error) return " · " + l.model + ": " + l.error + " (draft without suggestions)";
    return " · " + l.model + ": " + l.applied + " suggestions taken, " + l.ignored + " refused";
  }
  function showError(e) { const b = $("mapping-error"); b.textContent = e.message; b.hidden = false; }

  function render() {
    const m = current.mapping, t = current.target;
    $("mapping-status").textContent = "Version " + current.version + " · " +
      (current.status === "approved" ? "approved by " + current.approvedBy : "draft, not approved") + llmNote(current.llm);
    const types = t.issueTypes.map((x) => [x.id, x.name + " (level " + (x.subtask ? -1 : x.hierarchyLevel) + ")"]);
    const tt = $("map-types"); tt.replaceChildren();
    for (const r of m.types) tt.appendChild(row([r.adoType, select("Jira type for " + r.adoType, types, r.jiraType, (v) => { r.jiraType = v; decided(r); }), confidence(r.confidence, r.suggestedBy), r.reason]));
    const statuses = t.statuses.map((s) => [s.id, s.name]);
    const st = $("map-states"); st.replaceChildren();
    for (const r of m.states) st.appendChild(row([r.adoType, r.adoState, select("Status for " + r.adoType + " " + r.adoState, statuses, r.jiraStatus, (v) => { r.jiraStatus = v; decided(r); }), confidence(r.confidence, r.suggestedBy)]));
    const fields = t.fields.map((f) => [f.id, f.name]);
    const ft = $("map-fields"); ft.replaceChildren();
    for (const r of m.fields) {
      const values = Object.entries(r.values || {}).map(([a, b]) => a + " → " + b).join(", ");
      ft.appendChild(row([r.adoField, select("Jira field for " + r.adoField, fields, r.jiraField, (v) => { r.jiraField = v; decided(r); }), r.converter, confidence(r.confidence, r.suggestedBy), values]));
    }
    const ut = $("map-users"); ut.replaceChildren();
    for (const u of m.users) ut.appendChild(row([u.displayName, u.accountId || "not in Jira", u.matchedBy]));
    $("fallback-user").value = m.fallbackUser || "";
    $("unmapped-values").value = m.unmappedValues;
    $("comments-as-author").checked = !!m.commentsAsAuthor;
    $("mapping-body").hidden = false;
    $("mapping-approve").disabled = current.status === "approved";
    $("mapping-approve").textContent = current.status === "approved" ? "Approved" : "Approve this version";
    document.dispatchEvent(new CustomEvent("ferry:mapping", { detail: current }));
    window.ferry.resize();
  }
  async function load(id) { current = await api("GET", "/api/mappings/" + encodeURIComponent(id)); render(); }
  async function save(mapping) {
    mapping.fallbackUser = $("fallback-user").value.trim() || null;
    mapping.unmappedValues = $("unmapped-values").value;
    if ($("comments-as-author").checked) mapping.commentsAsAuthor = true; else delete mapping.commentsAsAuthor;
    current = await api("PUT", "/api/mappings/" + encodeURIComponent(current.id), { version: current.version, mapping });
    render();
  }

  document.addEventListener("ferry:catalog", async (ev) => {
    catalogId = ev.detail.id;
    $("mapping").hidden = false;
    const existing = await api("GET", "/api/catalogs/" + encodeURIComponent(catalogId) + "/mappings").catch(() => []);
    if (existing.length) await load(existing[0].id).catch(showError);
  });
  $("draft-form").addEventListener("submit", async (ev) => {
    ev.preventDefault(); $("mapping-error").hidden = true;
    try {
      current = await api("POST", "/api/catalogs/" + encodeURIComponent(catalogId) + "/mappings", { projectKey: $("project-key").value.trim() });
      render();
    } catch (e) { showError(e); }
  });
  $("mapping-save").onclick = () => save(current.mapping).catch(showError);
  $("mapping-approve").onclick = async () => {
    try { current = await api("POST", "/api/mappings/" + encodeURIComponent(current.id) + "/approve", { version: current.version }); render(); } catch (e) { showError(e); }
  };
  $("mapping-export").onclick = () => {
    const blob = new Blob([JSON.stringify(current.mapping, null, 2)], { type: "application/json" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob); a.download = "ferry-mapping-" + current.projectKey + "-v" + current.version + ".json";
    a.click(); URL.revokeObjectURL(a.href);
  };
  $("mapping-import").onchange = async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    try { await save(JSON.parse(await file.text())); } catch (e) { showError(e); }
    ev.target.value = "";
  };

  async function showItems(runId, code) {
    const page = await api("GET", "/api/dry-runs/" + encodeURIComponent(runId) + "/problems/" + encodeURIComponent(code) + "?limit=50");
    const box = $("dry-items"); box.replaceChildren();
    box.append(code + ": ");
    for (const i of page.items) {
      const b = document.createElement("button");
      b.className = "button"; b.textContent = "#" + i.adoId + (i.detail ? " (" + i.detail + ")" : "");
      b.onclick = () => preview(i.adoId).catch(showError);
      box.append(b, " ");
    }
    if (page.nextAfter) box.append("…");
  }
  async function preview(adoId) {
    const p = await api("GET", "/api/mappings/" + encodeURIComponent(current.id) + "/preview/" + adoId);
    const frame = $("preview");
    frame.srcdoc = "<!doctype html><meta charset=utf-8><style>body{font:14px/20px sans-serif;color:#172B4D}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px}</style>" +
      "<h1>" + String(p.create.fields.summary || "").replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";") + "</h1>" + p.html;
    frame.hidden = false;
  }
  $("dry-run-start").onclick = async () => {
    try {
      const run = await api("POST", "/api/mappings/" + encodeURIComponent(current.id) + "/dry-runs");
      $("dry-run").hidden = false; $("dry-run-start").disabled = true;
      let r;
      for (;;) {
        r = await api("GET", "/api/dry-runs/" + encodeURIComponent(run.id));
        $("dry-bar").max = r.dryRun.itemsTotal || 1; $("dry-bar").value = r.dryRun.itemsDone;
        $("dry-text").textContent = r.dryRun.itemsDone + " of " + (r.dryRun.itemsTotal ?? "?") + " items";
        if (r.dryRun.status === "failed") { $("dry-run-start").disabled = false; throw new Error("Dry run failed: " + r.dryRun.error); }
        if (r.dryRun.status === "completed") { $("dry-run-start").disabled = false; $("dry-run-start").textContent = "Run the dry run again"; break; }
        await new Promise((ok) => setTimeout(ok, 1000));
      }
      const totals = $("dry-totals"); totals.replaceChildren();
      for (const [k, v] of [["Will be created", r.totals.create], ["Of them with warnings", r.totals.warned], ["Will be skipped", r.totals.skip], ["Will fail", r.totals.fail]]) {
        const dt = document.createElement("dt"); dt.textContent = k; const dd = document.createElement("dd"); dd.textContent = v; totals.append(dt, dd);
      }
      const body = $("dry-problems"); body.replaceChildren();
      for (const p of r.problems) {
        const b = document.createElement("button");
        b.className = "button"; b.textContent = "Show items";
        b.onclick = () => showItems(run.id, p.code).catch(showError);
        body.appendChild(row([p.code, p.severity, p.items, p.explain, b]));
      }
      if (r.problems.length) {
        window.ferry.bars($("dry-chart"), r.problems.map((p) => ({
          label: p.code, total: 0, note: p.items + " items",
          parts: [{ value: p.items, kind: p.severity === "error" ? "failed" : "warned" }],
        })), "Problems by kind");
      }
      document.dispatchEvent(new CustomEvent("ferry:dry", { detail: r }));
      window.ferry.resize();
    } catch (e) { showError(e); }
  };
})();

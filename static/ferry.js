// Ferry's pages: API calls carry a context JWT from Atlassian's bridge when Jira hosts the
// page, else the session token Ferry embedded in the page. Text is inserted with
// textContent only, never as HTML.
"use strict";
(function () {
  const session = document.querySelector('meta[name="ferry-session"]').content;
  async function token() {
    if (window.AP && AP.context && AP.context.getToken) {
      try { return await new Promise((ok) => AP.context.getToken(ok)); } catch (_) { /* fall back */ }
    }
    return session;
  }
  async function api(method, path, body) {
    const headers = { Authorization: "JWT " + (await token()) };
    if (body) headers["Content-Type"] = "application/json";
    const res = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error || res.statusText);
    return res.status === 204 ? null : res.json();
  }
  const when = (ms) => (ms ? new Date(ms).toLocaleString() : "never");
  function row(cells) {
    const tr = document.createElement("tr");
    for (const c of cells) {
      const td = document.createElement("td");
      if (c instanceof Node) td.appendChild(c); else td.textContent = c;
      tr.appendChild(td);
    }
    return tr;
  }
  async function loadTokens() {
    const body = document.getElementById("token-rows");
    if (!body) return;
    body.replaceChildren();
    for (const t of await api("GET", "/api/tokens")) {
      const revoke = document.createElement("button");
      revoke.className = "button"; revoke.textContent = t.revokedAt ? "Revoked" : "Revoke";
      revoke.disabled = !!t.revokedAt;
      revoke.onclick = async () => { await api("DELETE", "/api/tokens/" + encodeURIComponent(t.id)); await refresh(); };
      body.appendChild(row([t.name, when(t.createdAt), when(t.lastUsedAt), revoke]));
    }
  }
  async function loadAudit() {
    const body = document.getElementById("audit-rows");
    if (!body) return;
    body.replaceChildren();
    for (const e of await api("GET", "/api/audit")) body.appendChild(row([when(e.createdAt), e.actor, e.action]));
  }
  async function loadConnections() {
    const body = document.getElementById("connection-rows");
    if (!body) return;
    body.replaceChildren();
    for (const c of await api("GET", "/api/connections")) {
      const select = document.createElement("select");
      select.setAttribute("aria-label", "Project of " + c.orgUrl);
      const scan = document.createElement("button");
      scan.className = "button"; scan.textContent = "Scan";
      scan.onclick = () => startScan(c.id, select.value).catch(showError);
      body.appendChild(row([c.orgUrl, when(c.createdAt), select, scan]));
      api("GET", "/api/connections/" + encodeURIComponent(c.id) + "/projects").then((projects) => {
        for (const p of projects) { const o = document.createElement("option"); o.textContent = p.name; select.appendChild(o); }
      }).catch(showError);
    }
  }
  function showError(e) {
    const box = document.getElementById("connection-error");
    box.textContent = e.message; box.hidden = false;
  }
  async function startScan(connectionId, project) {
    const started = await api("POST", "/api/scans", { connectionId, project });
    const wrap = document.getElementById("scan-progress"), bar = document.getElementById("scan-bar"), text = document.getElementById("scan-text");
    wrap.hidden = false;
    for (;;) {
      const s = await api("GET", "/api/scans/" + encodeURIComponent(started.scan.id));
      bar.max = s.itemsTotal || 1; bar.value = s.itemsDone;
      text.textContent = s.itemsDone + " of " + (s.itemsTotal ?? "?") + " items";
      if (s.status === "failed") throw new Error("Scan failed: " + s.error);
      if (s.status === "completed") break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await showCatalog(started.catalogId);
  }
  async function showCatalog(id) {
    const c = await api("GET", "/api/catalogs/" + encodeURIComponent(id));
    document.getElementById("catalog-project").textContent = c.project;
    const facts = document.getElementById("catalog-volumes");
    facts.replaceChildren();
    const v = c.volumes;
    const add = (k, val) => { const dt = document.createElement("dt"); dt.textContent = k; const dd = document.createElement("dd"); dd.textContent = val; facts.append(dt, dd); };
    add("Work items", v.items); add("Comments", v.comments); add("Links", v.links);
    add("Attachments", v.attachments + " (" + (v.attachmentBytes / 1e9).toFixed(2) + " GB)");
    add("People", c.identities.length);
    add("Price", c.quote.price.toFixed(2) + " " + c.quote.currency);
    add("Estimated run time", c.quote.minutes + " min (bound by " + c.quote.boundBy + ")");
    const counts = document.getElementById("catalog-counts");
    counts.replaceChildren();
    for (const n of c.counts) counts.appendChild(row([n.itemType, n.state, n.items]));
    document.getElementById("catalog").hidden = false;
    document.dispatchEvent(new CustomEvent("ferry:catalog", { detail: { id } }));
    if (window.AP && AP.resize) AP.resize();
  }
  const connectionForm = document.getElementById("connection-form");
  if (connectionForm) connectionForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    document.getElementById("connection-error").hidden = true;
    try {
      await api("POST", "/api/connections", { url: document.getElementById("ado-url").value, pat: document.getElementById("ado-pat").value });
      connectionForm.reset(); await loadConnections();
    } catch (e) { showError(e); }
  });
  async function refresh() { await Promise.all([loadTokens(), loadAudit(), loadConnections()]); if (window.AP && AP.resize) AP.resize(); }
  const form = document.getElementById("token-form");
  if (form) form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const created = await api("POST", "/api/tokens", { name: document.getElementById("token-name").value });
    const once = document.getElementById("token-once");
    once.textContent = "Copy this token now; it will not be shown again: " + created.token;
    once.hidden = false; form.reset(); await refresh();
  });
  window.ferry = { api, row, when };
  refresh().catch((e) => console.error("ferry:", e.message));
})();

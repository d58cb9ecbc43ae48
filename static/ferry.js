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
      revoke.className = "button"; revoke.textContent = t.revoked_at ? "Revoked" : "Revoke";
      revoke.disabled = !!t.revoked_at;
      revoke.onclick = async () => { await api("DELETE", "/api/tokens/" + encodeURIComponent(t.id)); await refresh(); };
      body.appendChild(row([t.name, when(t.created_at), when(t.last_used_at), revoke]));
    }
  }
  async function loadAudit() {
    const body = document.getElementById("audit-rows");
    if (!body) return;
    body.replaceChildren();
    for (const e of await api("GET", "/api/audit")) body.appendChild(row([when(e.created_at), e.actor, e.action]));
  }
  async function refresh() { await Promise.all([loadTokens(), loadAudit()]); if (window.AP && AP.resize) AP.resize(); }
  const form = document.getElementById("token-form");
  if (form) form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const created = await api("POST", "/api/tokens", { name: document.getElementById("token-name").value });
    const once = document.getElementById("token-once");
    once.textContent = "Copy this token now; it will not be shown again: " + created.token;
    once.hidden = false; form.reset(); await refresh();
  });
  refresh().catch((e) => console.error("ferry:", e.message));
})();

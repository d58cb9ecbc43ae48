// The settings view: tenant API tokens (shown once), the outbound webhook when this Ferry has
// one, and the audit log (newest first, paged with `before`).
"use strict";
(function () {
  const { api, $, el, row, when, showError, resize, views } = window.ferry;
  let oldest = null;

  async function loadTokens() {
    const body = $("token-rows");
    body.replaceChildren();
    for (const t of await api("GET", "/api/tokens")) {
      const revoke = el("button", { class: "button", type: "button" }, t.revokedAt ? "Revoked" : "Revoke");
      revoke.disabled = !!t.revokedAt;
      revoke.setAttribute("aria-label", (t.revokedAt ? "Revoked: " : "Revoke ") + t.name);
      revoke.onclick = async () => {
        try { await api("DELETE", "/api/tokens/" + encodeURIComponent(t.id)); await Promise.all([loadTokens(), loadAudit(true)]); } catch (e) { showError(e); }
      };
      body.appendChild(row([t.name, when(t.createdAt), when(t.lastUsedAt), revoke]));
    }
  }
  function detail(raw) {
    try {
      const d = JSON.parse(raw);
      return Object.entries(d).map(([k, v]) => k + "=" + (typeof v === "object" ? JSON.stringify(v) : v)).join(" ");
    } catch (_) { return raw; }
  }
  async function loadAudit(fresh) {
    const body = $("audit-rows");
    if (fresh) { body.replaceChildren(); oldest = null; }
    const page = await api("GET", "/api/audit?limit=50" + (oldest ? "&before=" + oldest : ""));
    for (const e of page) {
      const d = detail(e.detail);
      const cell = el("span", { title: d }, d.length > 160 ? d.slice(0, 160) + "…" : d);
      body.appendChild(row([when(e.createdAt), e.actor, e.action, cell]));
    }
    if (page.length) oldest = page[page.length - 1].id;
    $("audit-more").hidden = page.length < 50;
    resize();
  }
  $("audit-more").onclick = () => loadAudit(false).catch(showError);

  // The webhook setting exists only in Ferry versions that have it: the card stays hidden
  // when the API answers 404.
  async function loadWebhook() {
    try {
      const w = await api("GET", "/api/settings/webhook");
      $("webhook-url").value = (w && (w.url || "")) || "";
      $("webhook-card").hidden = false;
    } catch (e) {
      if (e.status === 404 || e.status === 405) $("webhook-card").hidden = true; else throw e;
    }
  }
  $("webhook-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("PUT", "/api/settings/webhook", { url: $("webhook-url").value.trim() || null });
      $("webhook-status").textContent = "Saved.";
      await loadAudit(true);
    } catch (e) { showError(e); }
  });

  $("token-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const created = await api("POST", "/api/tokens", { name: $("token-name").value });
      const once = $("token-once");
      once.replaceChildren("Copy this token now; it will not be shown again: ", el("code", { id: "token-value" }, created.token));
      once.hidden = false; $("token-form").reset();
      await Promise.all([loadTokens(), loadAudit(true)]);
    } catch (e) { showError(e); }
  });

  views.settings = {
    async show() {
      $("token-once").hidden = true;
      await Promise.all([loadTokens(), loadAudit(true), loadWebhook()]);
    },
  };
})();

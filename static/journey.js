// The "new migration" view: connect Azure DevOps, scan a project into a catalog, then (with
// mapping.js) map and dry-run, and start the run. Every action is an audited API call.
"use strict";
(function () {
  const { api, $, el, row, when, facts, showError, resize, views, go } = window.ferry;
  let mapping = null, dryDone = false;

  function step(name) {
    const order = ["connect", "scan", "mapping", "dry", "start"];
    const at = order.indexOf(name);
    for (const li of document.querySelectorAll(".steps li")) {
      const i = order.indexOf(li.dataset.step);
      li.className = i < at ? "done" : i === at ? "current" : "";
      if (i === at) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
    }
  }

  // Bring a step's card into view and put the keyboard there: inside a fixed-height frame
  // (a host without Atlassian's bridge) the next step would otherwise appear out of sight.
  function reveal(id) {
    const card = $(id);
    if (!card || card.hidden) return;
    const h = card.querySelector("h3");
    h.tabIndex = -1;
    h.focus({ preventScroll: true });
    card.scrollIntoView({ block: "start" });
  }

  async function loadConnections() {
    const body = $("connection-rows");
    body.replaceChildren();
    const list = await api("GET", "/api/connections");
    for (const c of list) {
      const select = el("select", { "aria-label": "Project of " + c.orgUrl });
      const scan = el("button", { class: "button primary", type: "button" }, "Scan");
      scan.onclick = () => startScan(c.id, select.value).catch(showError);
      body.appendChild(row([c.orgUrl, when(c.createdAt), select, scan]));
      api("GET", "/api/connections/" + encodeURIComponent(c.id) + "/projects").then((projects) => {
        for (const p of projects) select.appendChild(el("option", {}, p.name));
      }).catch(showError);
    }
    if (list.length && $("catalog").hidden && !mapping) step("scan");
  }

  async function startScan(connectionId, project) {
    $("scan-card").hidden = false;
    step("scan");
    const started = await api("POST", "/api/scans", { connectionId, project });
    const wrap = $("scan-progress"), bar = $("scan-bar"), text = $("scan-text");
    wrap.hidden = false; resize();
    for (;;) {
      const s = await api("GET", "/api/scans/" + encodeURIComponent(started.scan.id));
      bar.max = s.itemsTotal || 1; bar.value = s.itemsDone;
      text.textContent = s.itemsDone + " of " + (s.itemsTotal ?? "?") + " items";
      if (s.status === "failed") throw new Error("Scan failed: " + s.error);
      if (s.status === "completed") break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    wrap.hidden = true;
    await showCatalog(started.catalogId);
  }

  async function showCatalog(id) {
    const c = await api("GET", "/api/catalogs/" + encodeURIComponent(id));
    $("catalog-project").textContent = c.project;
    const v = c.volumes;
    facts($("catalog-volumes"), [
      ["Work items", v.items], ["Comments", v.comments], ["Links", v.links],
      ["Attachments", v.attachments + " (" + (v.attachmentBytes / 1e9).toFixed(2) + " GB)"],
      ["People", c.identities.length],
      ["Price", c.quote.price.toFixed(2) + " " + c.quote.currency],
      ["Estimated run time", c.quote.minutes + " min (bound by " + c.quote.boundBy + ")"],
    ]);
    const counts = $("catalog-counts");
    counts.replaceChildren();
    for (const n of c.counts) counts.appendChild(row([n.itemType, n.state, n.items]));
    $("catalog").hidden = false;
    $("scan-card").hidden = false;
    step("mapping");
    document.dispatchEvent(new CustomEvent("ferry:catalog", { detail: { id } }));
    resize();
    reveal("scan-card");
  }

  // mapping.js tells us where the mapping and the dry run are.
  document.addEventListener("ferry:mapping", (ev) => {
    const wasApproved = mapping && mapping.status === "approved";
    mapping = ev.detail;
    const approved = mapping.status === "approved";
    $("dry-card").hidden = !approved;
    if (approved) step(dryDone ? "start" : "dry");
    updateStart();
    if (approved && !wasApproved) reveal("dry-card");
  });
  document.addEventListener("ferry:dry", (ev) => {
    dryDone = true;
    const t = ev.detail.totals;
    $("start-summary").textContent = "The dry run found " + t.create + " items to create (" + t.warned + " with warnings), " +
      t.skip + " to skip and " + t.fail + " that will fail. Starting writes to Jira project " + mapping.projectKey +
      "; you can pause, resume or cancel at any time.";
    step("start");
    updateStart();
    reveal("start-card");
  });
  function updateStart() {
    $("start-card").hidden = !(mapping && mapping.status === "approved" && dryDone);
    resize();
  }
  $("run-start").onclick = async () => {
    $("start-error").hidden = true;
    try {
      const run = await api("POST", "/api/mappings/" + encodeURIComponent(mapping.id) + "/migrations");
      go("#/runs/" + encodeURIComponent(run.id));
    } catch (e) { $("start-error").textContent = e.message; $("start-error").hidden = false; }
  };

  $("connection-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("connection-error").hidden = true;
    try {
      await api("POST", "/api/connections", { url: $("ado-url").value, pat: $("ado-pat").value });
      $("ado-pat").value = "";
      await loadConnections();
      step("scan");
    } catch (e) { $("connection-error").textContent = e.message; $("connection-error").hidden = false; }
    resize();
  });

  views.new = {
    async show() {
      if (!mapping) step("connect");
      await loadConnections();
    },
  };
})();

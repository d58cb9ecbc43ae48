// Ferry's page core: API calls, the view router, iframe sizing and small SVG charts.
// API calls carry a context JWT from Atlassian's bridge when Jira hosts the page (and answers),
// else the session token Ferry embedded in the page. Text goes in with textContent only.
"use strict";
(function () {
  const session = document.querySelector('meta[name="ferry-session"]').content;
  let bridge = true; // false once AP.context.getToken failed to answer: a host without the bridge
  async function token() {
    if (bridge && window.AP && AP.context && AP.context.getToken) {
      const t = await Promise.race([
        new Promise((ok) => { try { AP.context.getToken(ok); } catch (_) { ok(null); } }),
        new Promise((ok) => setTimeout(() => ok(null), 1500)),
      ]);
      if (t) return t;
      bridge = false;
    }
    return session;
  }
  async function raw(method, path, body) {
    const headers = { Authorization: "JWT " + (await token()) };
    if (body) headers["Content-Type"] = "application/json";
    return fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  }
  async function api(method, path, body) {
    const res = await raw(method, path, body);
    if (!res.ok) {
      const e = new Error((await res.json().catch(() => ({}))).error || res.statusText || "HTTP " + res.status);
      e.status = res.status;
      throw e;
    }
    return res.status === 204 ? null : res.json();
  }
  const $ = (id) => document.getElementById(id);
  const when = (ms) => (ms ? new Date(ms).toLocaleString() : "never");
  function el(tag, attrs, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") n.className = v; else if (k.startsWith("on")) n[k] = v; else n.setAttribute(k, v);
    }
    for (const c of children) if (c != null) n.append(c instanceof Node ? c : String(c));
    return n;
  }
  function row(cells) {
    const tr = document.createElement("tr");
    for (const c of cells) {
      const td = document.createElement("td");
      if (c instanceof Node) td.appendChild(c); else td.textContent = c == null ? "" : c;
      tr.appendChild(td);
    }
    return tr;
  }
  function facts(dl, pairs) {
    dl.replaceChildren();
    for (const [k, v] of pairs) dl.append(el("dt", {}, k), el("dd", {}, v));
  }
  const STATUS = { queued: "Queued", running: "Running", paused: "Paused", completed: "Completed", failed: "Failed", cancelled: "Cancelled" };
  function lozenge(node, status) {
    node.textContent = STATUS[status] || status;
    node.className = "lozenge " + status;
  }
  function showError(e) {
    const box = $("page-error");
    if (!box) { console.error("ferry:", e); return; }
    box.textContent = e.message || String(e); box.hidden = false; resize();
  }
  function clearError() { if ($("page-error")) $("page-error").hidden = true; }

  // Height follows content: Jira's bridge resizes the iframe when it is there.
  let resizeQueued = false;
  function resize() {
    if (resizeQueued) return;
    resizeQueued = true;
    requestAnimationFrame(() => {
      resizeQueued = false;
      if (window.AP && AP.resize) try { AP.resize(); } catch (_) { /* not hosted */ }
    });
  }
  if (window.ResizeObserver) new ResizeObserver(resize).observe(document.body);

  // ---- small dependency-free SVG charts -------------------------------------------------
  const NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text != null) n.textContent = text;
    return n;
  }
  // Horizontal bars: [{label, parts: [{value, kind}], total, note}] — one row each.
  function bars(container, rows, title) {
    const w = 720, rowH = 34, labelW = 170, barW = 400;
    // Rows without a total of their own share one scale, so their lengths compare.
    const common = Math.max(1, ...rows.map((r) => r.parts.reduce((a, p) => a + p.value, 0)));
    const s = svg("svg", { viewBox: `0 0 ${w} ${rows.length * rowH + 8}`, width: "100%", role: "img", "aria-label": title });
    s.append(svg("title", {}, title));
    rows.forEach((r, i) => {
      const y = i * rowH + 8;
      s.append(svg("text", { x: 0, y: y + 15, class: "label" }, r.label));
      s.append(svg("rect", { x: labelW, y, width: barW, height: 18, rx: 3, class: "track" }));
      let x = labelW;
      const total = Math.max(r.total || common, r.parts.reduce((a, p) => a + p.value, 0), 1);
      for (const p of r.parts) {
        const pw = (p.value / total) * barW;
        if (pw > 0) s.append(svg("rect", { x, y, width: pw, height: 18, rx: 3, class: "part " + p.kind }));
        x += pw;
      }
      s.append(svg("text", { x: labelW + barW + 10, y: y + 15, class: "value" }, r.note));
    });
    container.replaceChildren(s);
    container.hidden = false;
  }
  // A line over time: points [{t (ms), v}], drawn with its axis range and unit.
  function line(container, points, title, unit) {
    const w = 720, h = 180, pad = 36;
    const s = svg("svg", { viewBox: `0 0 ${w} ${h}`, width: "100%", role: "img", "aria-label": title });
    s.append(svg("title", {}, title));
    if (points.length < 2) {
      s.append(svg("text", { x: pad, y: h / 2, class: "label" }, "Waiting for the first measurements…"));
      container.replaceChildren(s); return;
    }
    const t0 = points[0].t, t1 = points[points.length - 1].t;
    const max = Math.max(1, ...points.map((p) => p.v));
    const X = (t) => pad + ((t - t0) / Math.max(1, t1 - t0)) * (w - 2 * pad);
    const Y = (v) => h - pad + 8 - (v / max) * (h - pad - 16);
    s.append(svg("line", { x1: pad, y1: Y(0), x2: w - pad, y2: Y(0), class: "axis" }));
    s.append(svg("text", { x: 0, y: Y(max) + 4, class: "value" }, Math.round(max)));
    s.append(svg("text", { x: 0, y: Y(0) + 4, class: "value" }, "0"));
    s.append(svg("text", { x: w - pad, y: h - 4, class: "value", "text-anchor": "end" }, Math.round((t1 - t0) / 1000) + " s"));
    s.append(svg("text", { x: pad, y: h - 4, class: "value" }, unit));
    const d = points.map((p, i) => (i ? "L" : "M") + X(p.t).toFixed(1) + " " + Y(p.v).toFixed(1)).join(" ");
    s.append(svg("path", { d: d + ` L${X(t1).toFixed(1)} ${Y(0)} L${X(t0).toFixed(1)} ${Y(0)} Z`, class: "area" }));
    s.append(svg("path", { d, class: "line" }));
    container.replaceChildren(s);
  }

  // ---- views ------------------------------------------------------------------------------
  // Each view module registers `show(params)`; leaving a view calls its `hide()` if any.
  const views = {};
  let current = null;
  function route() {
    if (!document.querySelector(".view")) return; // a page without views (the project tab)
    const parts = (location.hash.replace(/^#\/?/, "") || "").split("/").filter(Boolean);
    let name = "list", params = {};
    if (parts[0] === "new") name = "new";
    else if (parts[0] === "settings") name = "settings";
    else if (parts[0] === "runs" && parts[1]) { name = parts[2] === "report" ? "report" : "run"; params = { id: decodeURIComponent(parts[1]) }; }
    if (current && views[current] && views[current].hide) views[current].hide();
    current = name;
    clearError();
    for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== "view-" + name;
    for (const a of document.querySelectorAll("[data-tab]")) {
      const on = a.dataset.tab === name || (a.dataset.tab === "list" && (name === "run" || name === "report"));
      if (on) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    }
    const view = views[name];
    if (view) Promise.resolve(view.show(params)).catch(showError).finally(resize);
    window.scrollTo(0, 0);
  }
  function go(hash) { if (location.hash === hash) route(); else location.hash = hash; }
  window.addEventListener("hashchange", route);

  window.ferry = { api, raw, $, el, row, when, facts, lozenge, showError, clearError, resize, bars, line, views, go };
  document.addEventListener("DOMContentLoaded", () => setTimeout(route, 0));
})();

/**
 * The report's interactive unit explorer: one SOM at a time as a grid of units, coloured by the
 * class that most often has the unit as first BMU (SOM-tr), class centres labelled, a class
 * colour legend, and toggles that overlay the BMUs of the selected classes for SOM-tr, SOM-val
 * and adversarial examples. Hover previews a unit; click (or Enter/Space) pins it; arrow keys
 * move between units; Escape unpins. The data is inline JSON, compact (flat integer arrays), and
 * the script needs nothing outside the page.
 *
 * @module
 */

import type { LayerAnalysis, ModelAnalysis } from "../../analysis/analyze.ts";
import { esc } from "./format.ts";

/**
 * Class colours: Okabe–Ito first (colour-blind-safe for up to 8 classes), then Paul Tol's muted
 * scheme (also designed for colour-blind readers); more classes repeat colours (the legend and
 * the unit details name every class).
 */
const PALETTE = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#D55E00",
  "#CC79A7",
  "#56B4E9",
  "#F0E442",
  "#666666",
  "#332288",
  "#88CCEE",
  "#44AA99",
  "#117733",
  "#999933",
  "#DDCC77",
  "#CC6677",
  "#882255",
  "#AA4499",
];

/** BMU hits of the featured classes on one split: flat `[label, unit, count, …]`. */
function _flatHits(list: { label: number; units: [number, number][] }[] | undefined): number[] {
  const out: number[] = [];
  for (const c of list ?? []) for (const [u, n] of c.units) out.push(c.label, u, n);
  return out;
}

/** Adversarial BMUs of the featured classes, when the analysis has them. */
function _adversarial(l: LayerAnalysis): number[] | null {
  const bbc = l.bmusByClass as LayerAnalysis["bmusByClass"] & {
    adversarial?: { label: number; units: [number, number][] }[];
  };
  return bbc.adversarial ? _flatHits(bbc.adversarial) : null;
}

/**
 * The explorer's inline data, as JSON safe to put inside a `<script>` element.
 *
 * @param analyses The analyses.
 * @param classNames Class names by label.
 * @returns JSON text.
 */
export function explorerData(analyses: readonly ModelAnalysis[], classNames?: string[]): string {
  const data = analyses.map((a) => ({
    model: a.model,
    featured: a.featuredClasses,
    layers: a.layers.map((l) => ({
      layer: l.layer,
      m: l.grid.m,
      n: l.grid.n,
      // [unit, label, count, …] of SOM-tr first BMUs, every class.
      hits: l.unitClassCounts.flat(),
      density: Array.from(l.density.density, (v) => +v.toPrecision(3)),
      centres: l.centres.flatMap((c) => [c.label, c.centreUnit]),
      tr: _flatHits(l.bmusByClass.train),
      val: _flatHits(l.bmusByClass.val),
      adv: _adversarial(l),
    })),
  }));
  return JSON.stringify({ models: data, names: classNames ?? [], palette: PALETTE })
    .replace(/</g, "\\u003c");
}

/** The explorer's script (runs once on load; reads `#explorer-data`). */
export const EXPLORER_JS = `
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("explorer-data").textContent);
  var root = document.getElementById("explorer");
  if (!D.models.length) { root.textContent = "No maps in this run."; return; }
  function name(l) { return D.names[l] ? l + " " + D.names[l] : "class " + l; }
  function colour(l) { return D.palette[l % D.palette.length]; }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  var controls = el("div", { class: "xctl" });
  var lab = el("label", {}, "Map ");
  var sel = el("select", { id: "explorer-layer" });
  D.models.forEach(function (m, mi) { m.layers.forEach(function (l, li) {
    sel.appendChild(el("option", { value: mi + ":" + li }, m.model + " · " + l.layer));
  }); });
  lab.appendChild(sel); controls.appendChild(lab);
  var toggles = {};
  [["tr", "SOM-tr BMUs"], ["val", "SOM-val BMUs"], ["adv", "adversarial BMUs"]].forEach(function (t) {
    var l = el("label", { class: "xtog" });
    var c = el("input", { type: "checkbox", id: "explorer-show-" + t[0] });
    l.appendChild(c); l.appendChild(document.createTextNode(" " + t[1] + " of the selected classes"));
    controls.appendChild(l); toggles[t[0]] = c;
  });
  var classBox = el("div", { class: "xcls", id: "explorer-classes" });
  var wrap = el("div", { class: "xwrap" });
  var grid = el("div", { class: "ugrid", id: "explorer-grid", role: "grid", "aria-label": "SOM units" });
  var side = el("div", { class: "xside" });
  var info = el("div", { class: "uinfo", id: "explorer-info", "aria-live": "polite" });
  var legend = el("div", { class: "xleg", id: "explorer-legend" });
  side.appendChild(info); side.appendChild(legend);
  wrap.appendChild(grid); wrap.appendChild(side);
  root.appendChild(controls); root.appendChild(classBox); root.appendChild(wrap);
  var L = null, M = null, byUnit = {}, centreAt = {}, marks = {}, pinned = -1, focus = 0, cells = [];
  var chosen = {};
  function triples(a, f) { for (var i = 0; i < a.length; i += 3) f(a[i], a[i + 1], a[i + 2]); }
  function describe(u) {
    var r = Math.floor(u / L.n), c = u % L.n, list = byUnit[u] || [];
    var total = list.reduce(function (s, x) { return s + x[1]; }, 0);
    var h = "<b>unit " + u + "</b> (row " + r + ", column " + c + ")" +
      (pinned === u ? " — pinned (Escape to unpin)" : "") +
      "<br>BMU density ×100: " + (100 * L.density[u]).toFixed(2);
    h += list.length
      ? "<br>SOM-tr examples with this first BMU (" + total + "):<br>" +
        list.slice(0, 12).map(function (x) {
          return '<span class="sw" style="background:' + colour(x[0]) + '"></span>' + esc(name(x[0])) + ": " + x[1];
        }).join("<br>") + (list.length > 12 ? "<br>… and " + (list.length - 12) + " more classes" : "")
      : "<br>no SOM-tr example has this unit as its first BMU";
    var m = marks[u];
    if (m) {
      ["tr", "val", "adv"].forEach(function (k) {
        if (m[k]) h += "<br>" + { tr: "SOM-tr", val: "SOM-val", adv: "adversarial" }[k] + " top-k hits of selected classes: " +
          Object.keys(m[k]).map(function (l) { return esc(name(+l)) + " " + m[k][l]; }).join(", ");
      });
    }
    if (centreAt[u]) h += "<br>class centre of: " + centreAt[u].map(function (l) { return esc(name(l)); }).join(", ");
    info.innerHTML = h;
  }
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  function paint() {
    marks = {};
    ["tr", "val", "adv"].forEach(function (k) {
      if (!toggles[k].checked || !L[k]) return;
      triples(L[k], function (l, u, n) {
        if (!chosen[l]) return;
        var m = marks[u] = marks[u] || {};
        (m[k] = m[k] || {})[l] = n;
      });
    });
    var maxD = Math.max.apply(null, L.density) || 1, any = Object.keys(marks).length > 0;
    cells.forEach(function (c, u) {
      var list = byUnit[u] || [];
      c.style.background = list.length ? colour(list[0][0]) : "#fff";
      c.style.opacity = list.length ? String((any ? 0.25 : 0.35) + (any ? 0.25 : 0.65) * L.density[u] / maxD) : "1";
      var t = "";
      if (centreAt[u]) t = centreAt[u].slice(0, 2).join(",");
      var m = marks[u];
      c.dataset.marks = m ? Object.keys(m).join(" ") : "";
      c.textContent = t + (m ? (m.tr ? "•" : "") + (m.val ? "∘" : "") + (m.adv ? "×" : "") : "");
      c.classList.toggle("marked", !!m);
      c.classList.toggle("centre", !!centreAt[u]);
      c.classList.toggle("pinned", pinned === u);
      c.setAttribute("aria-selected", pinned === u ? "true" : "false");
    });
  }
  function classPicker() {
    classBox.innerHTML = "";
    if (!M.featured.length) return;
    classBox.appendChild(document.createTextNode("Selected classes: "));
    M.featured.forEach(function (l) {
      if (!(l in chosen)) chosen[l] = true;
      var lb = el("label", { class: "xtog" });
      var c = el("input", { type: "checkbox" }); c.checked = chosen[l];
      c.addEventListener("change", function () { chosen[l] = c.checked; paint(); });
      lb.appendChild(c);
      lb.appendChild(el("span", { class: "sw", style: "background:" + colour(l) }));
      lb.appendChild(document.createTextNode(name(l)));
      classBox.appendChild(lb);
    });
  }
  function drawLegend() {
    var seen = {};
    for (var u in byUnit) seen[byUnit[u][0][0]] = (seen[byUnit[u][0][0]] || 0) + 1;
    var ls = Object.keys(seen).map(Number).sort(function (a, b) { return seen[b] - seen[a]; });
    legend.innerHTML = "<b>Cell colour: the class most often mapped there</b>";
    ls.slice(0, 30).forEach(function (l) {
      var d = el("div", { class: "xlegrow" });
      d.appendChild(el("span", { class: "sw", style: "background:" + colour(l) }));
      d.appendChild(document.createTextNode(name(l) + " (" + seen[l] + (seen[l] === 1 ? " unit)" : " units)")));
      legend.appendChild(d);
    });
    if (ls.length > 30) legend.appendChild(el("div", {}, "… and " + (ls.length - 30) + " more classes"));
    legend.appendChild(el("div", { class: "xnote" },
      "Numbers: class centres. • SOM-tr, ∘ SOM-val, × adversarial BMUs of the selected classes. Opacity: BMU density."));
  }
  function draw() {
    var p = sel.value.split(":"); M = D.models[+p[0]]; L = M.layers[+p[1]];
    byUnit = {}; centreAt = {}; pinned = -1; focus = 0;
    triples(L.hits, function (u, l, n) { (byUnit[u] = byUnit[u] || []).push([l, n]); });
    for (var u in byUnit) byUnit[u].sort(function (a, b) { return b[1] - a[1] || a[0] - b[0]; });
    for (var i = 0; i < L.centres.length; i += 2) (centreAt[L.centres[i + 1]] = centreAt[L.centres[i + 1]] || []).push(L.centres[i]);
    toggles.adv.disabled = !L.adv;
    toggles.adv.parentNode.title = L.adv ? "" : "no adversarial BMUs in this run";
    grid.innerHTML = ""; cells = [];
    grid.style.gridTemplateColumns = "repeat(" + L.n + ", 1fr)";
    for (var v = 0; v < L.m * L.n; v++) {
      var c = el("div", { class: "ucell", role: "gridcell", tabindex: v === 0 ? "0" : "-1", "data-unit": String(v),
        "aria-label": "unit " + v + ", row " + Math.floor(v / L.n) + ", column " + (v % L.n) });
      (function (v) {
        c.addEventListener("mouseenter", function () { if (pinned < 0) describe(v); });
        c.addEventListener("click", function () { pin(v); });
        c.addEventListener("focus", function () { focus = v; if (pinned < 0) describe(v); });
      })(v);
      grid.appendChild(c); cells.push(c);
    }
    classPicker(); drawLegend(); paint();
    info.textContent = "Hover a unit to preview it, click (or Enter) to pin it; arrow keys move between units.";
  }
  function pin(u) { pinned = pinned === u ? -1 : u; paint(); describe(u); }
  grid.addEventListener("keydown", function (e) {
    var r = Math.floor(focus / L.n), c = focus % L.n, to = focus;
    if (e.key === "ArrowRight") to = r * L.n + (c + 1) % L.n;
    else if (e.key === "ArrowLeft") to = r * L.n + (c + L.n - 1) % L.n;
    else if (e.key === "ArrowDown") to = ((r + 1) % L.m) * L.n + c;
    else if (e.key === "ArrowUp") to = ((r + L.m - 1) % L.m) * L.n + c;
    else if (e.key === "Enter" || e.key === " ") { pin(focus); e.preventDefault(); return; }
    else if (e.key === "Escape") { pinned = -1; paint(); describe(focus); return; }
    else return;
    e.preventDefault();
    cells[focus].setAttribute("tabindex", "-1"); cells[to].setAttribute("tabindex", "0");
    cells[to].focus();
  });
  sel.addEventListener("change", draw);
  Object.keys(toggles).forEach(function (k) { toggles[k].addEventListener("change", paint); });
  toggles.tr.checked = true;
  draw();
})();
`;

/** The explorer's styles. */
export const EXPLORER_CSS = `
.xctl{display:flex;flex-wrap:wrap;gap:.4em 1.2em;align-items:center;margin:.5em 0}.xtog{white-space:nowrap;margin-right:.8em}
.xcls{margin:.3em 0 .6em;font-size:.9em}.xwrap{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}
.ugrid{display:grid;width:480px;max-width:100%;gap:1px;background:#ddd;border:1px solid #bbb}
.ucell{aspect-ratio:1;background:#fff;font-size:9px;text-align:center;line-height:1.1;cursor:pointer;overflow:hidden;color:#000;display:flex;align-items:center;justify-content:center}
.ucell.centre{font-weight:bold}.ucell.marked{opacity:1!important;box-shadow:inset 0 0 0 2px #000}
.ucell:hover,.ucell:focus{outline:2px solid #000;outline-offset:-1px;z-index:1}.ucell.pinned{outline:3px solid #D55E00;outline-offset:-2px}
.xside{flex:1;min-width:280px}.uinfo{min-height:8em;font-size:.9em;margin-bottom:.8em}
.xleg{font-size:.85em;columns:2;column-gap:1.5em}.xleg b{column-span:all;display:block;margin-bottom:.3em}.xnote{column-span:all;margin-top:.4em;color:#444}
.sw{display:inline-block;width:.9em;height:.9em;margin-right:.35em;vertical-align:-.1em;border:1px solid #999}
`;

/**
 * The explorer section's HTML (container, inline data, script).
 *
 * @param analyses The analyses.
 * @param classNames Class names by label.
 * @returns HTML.
 */
export function explorerSection(analyses: readonly ModelAnalysis[], classNames?: string[]): string {
  return `<section id="explorer-section"><h2>Unit explorer</h2>
<p>Each cell is a unit of one SOM (choose the map above it), coloured by the class whose SOM-tr
examples most often have it as their first BMU; opacity shows the BMU density, numbers mark class
centres. The toggles overlay the top-k BMUs of the selected classes: • SOM-tr, ∘ SOM-val,
× adversarial. Hover a unit to preview it; click, or move with the arrow keys and press Enter, to
pin it.</p>
<div id="explorer"></div>
<script type="application/json" id="explorer-data">${explorerData(analyses, classNames)}</script>
<script>${EXPLORER_JS}</script>
<noscript><p>${esc("The explorer needs JavaScript.")}</p></noscript>
</section>`;
}

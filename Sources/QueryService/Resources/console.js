// The analyst's and auditor's console of `veil service`: plain JavaScript, no build step. The token the user types
// is kept in this tab's sessionStorage and sent as `Authorization: Bearer …` to the /v1/ API; nothing else is stored.
"use strict";

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("veil-token") || "";

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: Object.assign({ Authorization: "Bearer " + token }, body ? { "Content-Type": "application/json" } : {}),
    body: body ? JSON.stringify(body) : undefined,
  });
  const type = response.headers.get("Content-Type") || "";
  const payload = type.startsWith("application/json") ? await response.json() : await response.text();
  if (!response.ok) {
    const error = payload && payload.error ? payload.error : { code: String(response.status), message: response.statusText };
    throw Object.assign(new Error(error.message), { code: error.code, status: response.status });
  }
  return payload;
}

function show(message) { $("message").textContent = message || ""; }

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function format(value) {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toPrecision(6).replace(/\.?0+$/, "");
  return String(value);
}

function amount(value) { return value === 0 ? "0" : format(value); }

async function signIn() {
  show("");
  try {
    const me = await api("GET", "/v1/me/budget");
    sessionStorage.setItem("veil-token", token);
    $("who").textContent = me.account + " (" + me.role + ")";
    $("logout").hidden = false;
    $("analyst").hidden = me.role !== "analyst";
    $("auditor").hidden = me.role === "analyst";
    const select = me.role === "analyst" ? $("dataset") : $("audit-dataset");
    select.replaceChildren(...me.datasets.map((d) => new Option(d.dataset, d.dataset)));
    if (me.role === "analyst") {
      renderBudget(me);
      await Promise.all([describe(), history()]);
    } else {
      await audit();
    }
  } catch (error) {
    sessionStorage.removeItem("veil-token");
    show(error.message);
  }
}

function renderBudget(me) {
  const body = $("budget").tBodies[0];
  body.replaceChildren();
  for (const d of me.datasets) {
    const row = body.insertRow();
    cell(row, d.dataset);
    cell(row, amount(d.spent.epsilon), "number");
    cell(row, amount(d.remaining.epsilon), "number");
    cell(row, amount(d.remaining.delta), "number");
    cell(row, String(d.queries), "number");
  }
}

async function describe() {
  const dataset = await api("GET", "/v1/datasets/" + encodeURIComponent($("dataset").value));
  const body = $("schema-body");
  body.replaceChildren();
  for (const table of dataset.tables) {
    const title = document.createElement("p");
    title.textContent = table.name + " — privacy unit " + (table.privacy_unit || "row") + ", at most " +
      table.max_partitions_per_unit + " groups per unit, " + table.max_rows_per_partition + " row(s) per group";
    const list = document.createElement("ul");
    for (const column of table.columns) {
      const item = document.createElement("li");
      let text = column.name + " (" + column.type + ")";
      if (column.lower !== undefined) text += " in [" + column.lower + ", " + column.upper + "]";
      if (column.public_values) text += " public values: " + column.public_values.join(", ");
      item.textContent = text;
      list.appendChild(item);
    }
    body.append(title, list);
  }
}

function request() {
  const body = {
    sql: $("sql").value,
    epsilon: Number($("epsilon").value),
    delta: Number($("delta").value || 0),
    confidence: Number($("confidence").value || 0.95),
  };
  if ($("purpose").value.trim()) body.purpose = $("purpose").value.trim();
  return body;
}

function path(suffix) { return "/v1/datasets/" + encodeURIComponent($("dataset").value) + "/queries" + suffix; }

async function cost() {
  show("");
  try {
    const answer = await api("POST", path(":dry-run"), request());
    const widths = answer.expected_half_widths.map((w) =>
      w.half_width !== undefined ? w.column + " ±" + format(w.half_width)
        : w.half_width_times_count !== undefined ? w.column + " about ±" + format(w.half_width_times_count) + "/n"
        : w.column + " depends on the data").join("; ");
    $("cost").textContent = "cost: ε " + amount(answer.cost.epsilon) + ", δ " + amount(answer.cost.delta) +
      " (" + answer.noise.replace("_", " ") + "); you have ε " + amount(answer.budget.remaining.epsilon) +
      " left; expected " + format(answer.confidence_level * 100) + "% half-widths: " + widths;
  } catch (error) { show(error.message); }
}

async function run() {
  show("");
  $("run-button").disabled = true;
  try {
    const answer = await api("POST", path(""), request());
    renderResult(answer);
    const me = await api("GET", "/v1/me/budget");
    renderBudget(me);
    await history();
  } catch (error) { show(error.message); }
  $("run-button").disabled = false;
}

function renderResult(answer) {
  const table = $("result");
  const percent = format(answer.confidence_level * 100) + "% CI";
  const noisy = answer.columns.map((c) => answer.confidence_intervals.some((row) => row[c] !== undefined));
  const head = table.tHead;
  head.replaceChildren();
  const header = head.insertRow();
  answer.columns.forEach((c, i) => {
    const th = document.createElement("th"); th.textContent = c; header.appendChild(th);
    if (noisy[i]) { const ci = document.createElement("th"); ci.textContent = percent; header.appendChild(ci); }
  });
  const body = table.tBodies[0];
  body.replaceChildren();
  answer.rows.forEach((row, r) => {
    const tr = body.insertRow();
    answer.columns.forEach((c, i) => {
      cell(tr, format(row[c]), typeof row[c] === "number" ? "number" : "");
      if (noisy[i]) {
        const interval = answer.confidence_intervals[r][c];
        cell(tr, interval ? "[" + format(interval[0]) + ", " + format(interval[1]) + "]" : "", "interval");
      }
    });
  });
  if (answer.rows.length === 0) cell(body.insertRow(), "(no rows released)");
  $("charge").textContent = "charged ε " + amount(answer.cost.epsilon) + ", δ " + amount(answer.cost.delta) +
    " (ledger reservation " + answer.ledger.reservation + "); you have ε " + amount(answer.budget.remaining.epsilon) +
    ", δ " + amount(answer.budget.remaining.delta) + " left on " + answer.dataset;
}

async function history() {
  const answer = await api("GET", "/v1/me/queries");
  const body = $("history").tBodies[0];
  body.replaceChildren();
  for (const q of answer.queries) {
    const row = body.insertRow();
    cell(row, q.time.replace("T", " ").replace("Z", ""));
    cell(row, q.dataset);
    cell(row, q.purpose);
    cell(row, amount(q.cost.epsilon), "number");
    cell(row, amount(q.cost.delta), "number");
    cell(row, q.state);
  }
}

async function audit() {
  try {
    const dataset = $("audit-dataset").value;
    const [report, heads] = await Promise.all([
      api("GET", "/v1/audit/report?dataset=" + encodeURIComponent(dataset)),
      api("GET", "/v1/audit/head"),
    ]);
    $("report").srcdoc = report;
    const head = heads.heads.find((h) => h.dataset === dataset);
    $("audit-head").textContent = head ? "chain head: entry " + head.entry + ", " + head.hash.slice(0, 16) + "…" : "";
  } catch (error) { show(error.message); }
}

$("login").addEventListener("submit", (event) => { event.preventDefault(); token = $("token").value.trim(); signIn(); });
$("logout").addEventListener("click", () => { sessionStorage.removeItem("veil-token"); location.reload(); });
$("query-form").addEventListener("submit", (event) => { event.preventDefault(); run(); });
$("cost-button").addEventListener("click", cost);
$("dataset").addEventListener("change", describe);
$("audit-refresh").addEventListener("click", audit);
$("audit-dataset").addEventListener("change", audit);
setInterval(() => { if (!$("auditor").hidden) audit(); }, 10000);
if (token) { $("token").value = token; signIn(); }

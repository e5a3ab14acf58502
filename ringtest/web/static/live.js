// The live view's page: one EventSource, every message a whole snapshot, rendered with
// textContent only (no HTML from data). EventSource reconnects by itself after a server
// restart; the first message after it is the whole state again, so the page catches up.
"use strict";

const state = { snapshot: null, receivedAt: 0 };

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function replaceRows(table, rows, build) {
  const body = document.querySelector(`#${table} tbody`);
  body.replaceChildren(...rows.map(build));
}

function duration(seconds) {
  const sign = seconds < 0 ? "-" : "";
  let left = Math.abs(Math.round(seconds));
  const hours = Math.floor(left / 3600);
  left -= hours * 3600;
  const minutes = Math.floor(left / 60);
  const secs = left - minutes * 60;
  const pad = (n) => String(n).padStart(2, "0");
  return `${sign}${hours}:${pad(minutes)}:${pad(secs)}`;
}

function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"}) : "";
}

// A deadline may be days away: its weekday too.
function due(iso) {
  return new Date(iso).toLocaleString([], {weekday: "short", hour: "2-digit", minute: "2-digit"});
}

function percent(value) {
  return value === null || value === undefined ? "–" : `${value.toFixed(1)} %`;
}

function panel(department) {
  const div = document.createElement("div");
  div.className = "panel";
  div.dataset.department = department.department;
  div.dataset.state = department.longest_wait_state || "ok";
  const add = (tag, text, className) => {
    const element = document.createElement(tag);
    element.textContent = text;
    if (className) element.className = className;
    div.appendChild(element);
    return element;
  };
  add("h3", department.department);
  add("p", `${department.ringing} ringing`, "big ringing");
  add("p", department.longest_wait_seconds === null ? "no one waiting"
    : `longest wait ${department.longest_wait_rings} rings`, "wait");
  add("p", `${percent(department.within_standard_pct)} within standard `
    + `(${department.within_standard ?? 0} of ${department.offered ?? 0})`, "within");
  add("p", `${department.missed ?? 0} missed today`, "missed");
  add("p", `${department.callbacks_owed_now} to call back, ${department.callbacks_overdue_now} overdue`
    + (department.closest_deadline_at ? `, next due ${due(department.closest_deadline_at)}` : ""),
    "owed");
  const outcomes = Object.entries(department.ring_test_outcomes || {})
    .map(([outcome, count]) => `${count} ${outcome.replaceAll("_", " ")}`).join(", ");
  add("p", `${department.ring_tests ?? 0} ring tests${outcomes ? `: ${outcomes}` : ""}`, "tests");
  return div;
}

function render(snapshot) {
  state.snapshot = snapshot;
  state.receivedAt = performance.now();
  const standard = snapshot.standard;
  document.getElementById("standard").textContent =
    `standard: ${standard.answer_within_rings} rings of ${standard.seconds_per_ring} s`;
  document.getElementById("departments").replaceChildren(...snapshot.departments.map(panel));
  document.getElementById("pbxs-section").hidden = snapshot.pbxs.length < 2;
  replaceRows("pbxs", snapshot.pbxs, (pbx) => {
    const row = document.createElement("tr");
    row.dataset.pbx = pbx.pbx;
    cell(row, pbx.pbx);
    cell(row, String(pbx.ringing), "ringing");
    cell(row, pbx.longest_wait_rings === null ? "–" : String(pbx.longest_wait_rings));
    cell(row, `${percent(pbx.within_standard_pct)} (${pbx.within_standard} of ${pbx.offered})`,
      "within");
    cell(row, String(pbx.missed), "missed");
    cell(row, String(pbx.callbacks_owed_now), "owed");
    cell(row, String(pbx.callbacks_overdue_now), "overdue");
    return row;
  });
  replaceRows("ringing", snapshot.ringing, (call) => {
    const row = document.createElement("tr");
    row.dataset.callId = call.call_id;
    row.dataset.department = call.department;
    row.dataset.state = call.state;
    cell(row, call.department);
    cell(row, call.line);
    cell(row, String(call.rings), "rings");
    cell(row, duration(call.ring_seconds), "waiting");
    return row;
  });
  replaceRows("recent", snapshot.recent, (call) => {
    const row = document.createElement("tr");
    row.dataset.callId = call.call_id;
    row.dataset.department = call.department;
    row.dataset.answeredBy = call.answered_by || "";
    cell(row, call.department);
    cell(row, call.line);
    cell(row, call.rings === null ? "–" : String(call.rings), "rings");
    cell(row, call.outcome || `answered by ${call.answered_by}`, "outcome");
    cell(row, clock(call.at));
    return row;
  });
  replaceRows("callbacks", snapshot.callbacks.rows, (owed) => {
    const row = document.createElement("tr");
    row.dataset.key = owed.key;
    row.dataset.department = owed.department;
    row.dataset.priority = owed.priority;
    row.dataset.overdue = String(owed.overdue);
    cell(row, owed.priority, "priority");
    cell(row, owed.caller, "caller");
    cell(row, owed.department);
    cell(row, owed.met, "met");
    cell(row, String(owed.tries_today));
    cell(row, due(owed.deadline_at), "due");
    const left = cell(row, "", "left");
    left.dataset.seconds = owed.working_seconds_left;
    left.dataset.counting = String(owed.counting);
    return row;
  });
  replaceRows("left", snapshot.callbacks.left, (done) => {
    const row = document.createElement("tr");
    row.dataset.key = done.key;
    cell(row, done.caller);
    cell(row, done.department);
    cell(row, done.how, "how");
    cell(row, clock(done.closed_at));
    return row;
  });
  renderHealth(snapshot.health);
  tick();
  document.body.dataset.rendered = String(Date.now());
}

function renderHealth(health) {
  const entries = [
    ["Connected", health.connected ? `since ${clock(health.connected_since)}` : "no"],
    ["Last event", health.last_event_age_seconds === null ? "none yet"
      : `${Math.round(health.last_event_age_seconds)} s ago`],
    ["PBX clock", health.clock_offset_seconds === null ? "not measured"
      : `${health.clock_offset_seconds.toFixed(3)} s from ours`],
    ["Anomalies", String(health.anomalies)],
    ["Oversize frames", String(health.oversize_frames)],
    ["Write errors", String(health.write_errors)],
  ];
  document.getElementById("health").replaceChildren(...entries.flatMap(([name, value]) => {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = value;
    return [dt, dd];
  }));
  const banner = document.getElementById("not-whole");
  banner.hidden = health.figures_whole;
  banner.textContent = health.figures_whole ? ""
    : `Figures are not whole: ${health.not_whole_because.join("; ")}`;
}

// The work list's countdown runs only in working time (the server says when it does).
function tick() {
  const elapsed = (performance.now() - state.receivedAt) / 1000;
  for (const left of document.querySelectorAll("#callbacks td.left")) {
    const counting = left.dataset.counting === "true";
    const seconds = Number(left.dataset.seconds) - (counting ? elapsed : 0);
    left.textContent = (seconds < 0 ? `overdue ${duration(-seconds)}` : duration(seconds))
      + (counting ? "" : " (paused: closed)");
  }
}

function connect() {
  const link = document.getElementById("link");
  const source = new EventSource("/events");
  source.addEventListener("open", () => {
    link.dataset.state = "live";
    link.textContent = "live";
  });
  source.addEventListener("error", () => {
    link.dataset.state = "reconnecting";
    link.textContent = "reconnecting…";
    if (source.readyState === EventSource.CLOSED) {  // refused, not just dropped: retry anyway
      source.close();
      setTimeout(connect, 2000);
    }
  });
  source.addEventListener("snapshot", (event) => {
    link.dataset.state = "live";
    link.textContent = "live";
    render(JSON.parse(event.data));
  });
}

connect();
setInterval(tick, 1000);

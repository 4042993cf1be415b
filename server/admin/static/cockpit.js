// The bureau's cockpit (一屏掌控): figures from /api/v1/admin/cockpit/*, live gate events by
// server-sent events. The stream is read with fetch (not EventSource) so the token travels in
// the Authorization header, never in a URL that proxies log.
"use strict";

const TEXT = {
  "zh-CN": {
    title: "E游温州 · 数字驾驶舱", username: "用户名", password: "密码", sign_in: "登录",
    sign_out: "退出", from: "从", to: "到", refresh: "刷新", live: "实时", offline: "未连接",
    hourly: "今日分时预约与入园", daily: "每日趋势", complaints: "投诉处理状态",
    intents: "咨询热点意图", venues: "场馆实时客流", venue: "场馆", reserved: "今日预约人数",
    booked: "时段已约/容量", entered: "已入园", inside: "在园人数", cap: "瞬时承载量",
    percent: "占比", level: "状态", warnings: "预警", exports: "数据导出",
    export_daily_csv: "每日数据 CSV", export_daily_xlsx: "每日数据 Excel",
    export_reservations: "预约明细 Excel", export_complaints: "投诉 Excel",
    admins_only: "驾驶舱仅供文旅局管理员使用。", session_expired: "登录已过期，请重新登录。",
    kpi_reservations: "今日预约单", kpi_people: "今日预约人数", kpi_entered: "今日入园",
    kpi_inside: "当前在园", kpi_warnings: "今日客流预警", kpi_searches: "美食地图搜索",
    kpi_card: "社保卡入园", kpi_loans: "社保卡借阅", kpi_chat: "智能客服咨询",
    kpi_complaints_open: "待处理投诉", kpi_overdue: "超期投诉",
    series_booked: "时段预约", series_entries: "实际入园", series_reserved: "预约人数",
    series_entered: "入园人数", series_cancelled: "取消", not_installed: "未接入",
    warning_text: "客流达到瞬时承载量的", comfortable: "舒适", busy: "较多", crowded: "拥挤",
    full: "已满", none: "—", no_data: "暂无数据", exporting: "正在导出…", exported: "已下载",
    status_open: "待受理", status_assigned: "处理中", status_answered: "已答复", status_closed: "已办结",
  },
  en: {
    title: "E-Tour Wenzhou · Cockpit", username: "Username", password: "Password",
    sign_in: "Sign in", sign_out: "Sign out", from: "From", to: "to", refresh: "Refresh",
    live: "Live", offline: "Offline", hourly: "Today by hour: booked and entered",
    daily: "Daily trend", complaints: "Complaints by status", intents: "Top chat intents",
    venues: "Venues live", venue: "Venue", reserved: "Reserved today",
    booked: "Slots booked/capacity", entered: "Entered", inside: "Inside now",
    cap: "Instant cap", percent: "Share", level: "Level", warnings: "Warnings",
    exports: "Exports", export_daily_csv: "Daily figures CSV", export_daily_xlsx: "Daily figures Excel",
    export_reservations: "Reservations Excel", export_complaints: "Complaints Excel",
    admins_only: "The cockpit is for the bureau's administrators.",
    session_expired: "Your session has expired; please sign in again.",
    kpi_reservations: "Reservations today", kpi_people: "People booked today",
    kpi_entered: "Entered today", kpi_inside: "Inside now", kpi_warnings: "Crowd warnings today",
    kpi_searches: "Food-map searches", kpi_card: "Card entries", kpi_loans: "Card loans",
    kpi_chat: "Chat messages", kpi_complaints_open: "Open complaints", kpi_overdue: "Overdue complaints",
    series_booked: "Booked", series_entries: "Entered", series_reserved: "People booked",
    series_entered: "People entered", series_cancelled: "Cancelled", not_installed: "not installed",
    warning_text: "crowd reached", comfortable: "comfortable", busy: "busy", crowded: "crowded",
    full: "full", none: "—", no_data: "no data yet", exporting: "Exporting…", exported: "Downloaded",
    status_open: "Open", status_assigned: "Assigned", status_answered: "Answered", status_closed: "Closed",
  },
};
const TOKEN_KEY = "etour.cockpit.token";
const REFRESH_MS = 60000;
const RECONNECT_MS = 3000;

let language = localStorage.getItem("etour.cockpit.lang") || "zh-CN";
let token = sessionStorage.getItem(TOKEN_KEY);
let streamController = null;
let refreshTimer = null;
const charts = {};
const venueNames = new Map();

const $ = (selector) => document.querySelector(selector);
const t = (key) => TEXT[language][key] ?? TEXT["zh-CN"][key] ?? key;

function applyLanguage() {
  document.documentElement.lang = language;
  document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
  document.querySelectorAll("[data-action=language]").forEach((node) => {
    node.textContent = language === "zh-CN" ? "English" : "中文";
  });
  document.title = t("title");
}

async function api(path, options = {}) {
  const headers = { "Accept-Language": language, ...(options.headers || {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401 && token) {
    signOut(t("session_expired"));
    throw new Error(t("session_expired"));
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.error?.message || response.statusText);
  }
  return response;
}

// --- signing in and out ---------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  $("#login-error").textContent = "";
  try {
    const response = await api("/api/v1/admin/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("#username").value, password: $("#password").value }),
    });
    const session = await response.json();
    if (session.role !== "admin") throw new Error(t("admins_only"));
    token = session.token;
    sessionStorage.setItem(TOKEN_KEY, token);
    showCockpit();
  } catch (error) {
    $("#login-error").textContent = error.message;
  }
}

function signOut(message) {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  if (streamController) streamController.abort();
  clearInterval(refreshTimer);
  $("#cockpit").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message || "";
}

function showCockpit() {
  $("#login").hidden = true;
  $("#cockpit").hidden = false;
  const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);  // Wenzhou
  if (!$("#end").value) $("#end").value = today;
  if (!$("#start").value) {
    $("#start").value = new Date(Date.parse(today) - 6 * 86400000).toISOString().slice(0, 10);
  }
  Object.entries({ hourly: "#chart-hourly", daily: "#chart-daily", complaints: "#chart-complaints",
    intents: "#chart-intents" }).forEach(([name, selector]) => {
    if (!charts[name] && window.echarts) charts[name] = echarts.init($(selector), "dark");
  });
  loadFigures().catch((error) => { $("#live").title = error.message; });
  clearInterval(refreshTimer);
  refreshTimer = setInterval(loadFigures, REFRESH_MS);  // catches any event Redis lost
  followGateEvents();
}

// --- figures ----------------------------------------------------------------------------------

async function loadFigures() {
  const range = new URLSearchParams({ start: $("#start").value, end: $("#end").value });
  const figures = await (await api(`/api/v1/admin/cockpit/overview?${range}`)).json();
  renderKpis(figures);
  renderVenues(figures.venues);
  renderCharts(figures);
  figures.warnings.latest
    .filter((warning) => warning.date === figures.today)
    .slice(0, 3)
    .forEach((warning) => showWarning({ ...warning, threshold: warning.threshold_percent }, false));
  document.body.dataset.loaded = "yes";
}

function kpi(name, value) {
  const shown = value === undefined || value === null ? t("not_installed") : value;
  return `<div class="kpi" data-kpi="${name}"><div class="value">${shown}</div><div class="name">${t(name)}</div></div>`;
}

function sum(rows, key) {
  return rows.reduce((total, row) => total + (row[key] || 0), 0);
}

function renderKpis(figures) {
  const venues = figures.venues;
  const today = figures.daily.find((row) => row.date === figures.today) || {};
  const complaints = figures.complaints;
  const open = complaints ? (complaints.by_status.open || 0) + (complaints.by_status.assigned || 0) : null;
  $("#kpis").innerHTML = [
    kpi("kpi_reservations", sum(venues, "reservations")),
    kpi("kpi_people", sum(venues, "reserved_people")),
    kpi("kpi_entered", sum(venues, "entered")),
    kpi("kpi_inside", sum(venues, "occupancy")),
    kpi("kpi_warnings", sum(venues, "warnings")),
    kpi("kpi_searches", today.food_searches ?? 0),
    kpi("kpi_card", figures.card ? figures.card.totals?.card_entries ?? 0 : null),
    kpi("kpi_loans", figures.card ? figures.card.totals?.loans ?? 0 : null),
    kpi("kpi_chat", figures.chat ? figures.chat.messages ?? 0 : null),
    kpi("kpi_complaints_open", open),
    kpi("kpi_overdue", complaints ? complaints.overdue : null),
  ].join("");
}

function levelText(level) {
  return level ? t(level) : t("none");
}

function renderVenues(venues) {
  const rows = venues.map((venue) => {
    venueNames.set(venue.venue_id, venue.name);
    return `<tr data-venue-id="${venue.venue_id}" data-level="${venue.level || ""}">
      <td class="name"></td>
      <td class="reserved">${venue.reserved_people}</td>
      <td class="booked">${venue.slot_booked}/${venue.slot_capacity}</td>
      <td class="entered">${venue.entered}</td>
      <td class="inside">${venue.occupancy}</td>
      <td class="cap">${venue.instant_capacity ?? t("none")}</td>
      <td class="percent">${venue.occupancy_percent === null ? t("none") : venue.occupancy_percent + "%"}</td>
      <td class="level">${levelText(venue.level)}</td>
      <td class="warnings">${venue.warnings}</td>
    </tr>`;
  });
  const body = $("#venues tbody");
  body.innerHTML = rows.join("");
  // Names are text from the database: set as text, never as HTML.
  venues.forEach((venue, index) => { body.rows[index].cells[0].textContent = venue.name; });
}

function emptyTitle(module) {
  const text = module ? t("no_data") : t("not_installed");
  return { text, left: "center", top: "middle", textStyle: { color: "#8fa7c6", fontSize: 14 } };
}

function renderCharts(figures) {
  if (!window.echarts) return;
  const axis = { axisLabel: { color: "#8fa7c6" } };
  charts.hourly.setOption({
    backgroundColor: "transparent", tooltip: { trigger: "axis" },
    legend: { data: [t("series_booked"), t("series_entries")] },
    xAxis: { type: "category", data: figures.hourly.hours.map((h) => `${h}:00`), ...axis },
    yAxis: { type: "value", ...axis },
    series: [
      { name: t("series_booked"), type: "bar", data: figures.hourly.booked },
      { name: t("series_entries"), type: "line", smooth: true, data: figures.hourly.entries },
    ],
  }, true);
  charts.daily.setOption({
    backgroundColor: "transparent", tooltip: { trigger: "axis" },
    legend: { data: [t("series_reserved"), t("series_entered"), t("series_cancelled")] },
    xAxis: { type: "category", data: figures.daily.map((row) => row.date.slice(5)), ...axis },
    yAxis: { type: "value", ...axis },
    series: [
      { name: t("series_reserved"), type: "line", data: figures.daily.map((r) => r.reserved_people) },
      { name: t("series_entered"), type: "line", data: figures.daily.map((r) => r.entered) },
      { name: t("series_cancelled"), type: "bar", data: figures.daily.map((r) => r.cancelled) },
    ],
  }, true);
  const statuses = figures.complaints
    ? Object.entries(figures.complaints.by_status).filter(([, count]) => count > 0) : [];
  charts.complaints.setOption({
    backgroundColor: "transparent", tooltip: { trigger: "item" },
    title: statuses.length ? undefined : emptyTitle(figures.complaints),
    series: [{ type: "pie", radius: ["40%", "70%"],
      data: statuses.map(([status, count]) => ({ name: t(`status_${status}`), value: count })) }],
  }, true);
  const intents = figures.chat ? (figures.chat.top_intents || []) : [];
  charts.intents.setOption({
    backgroundColor: "transparent", tooltip: { trigger: "axis" },
    title: intents.length ? undefined : emptyTitle(figures.chat),
    xAxis: { type: "value", ...axis },
    yAxis: { type: "category", data: intents.map((i) => i.intent), ...axis },
    series: [{ type: "bar", data: intents.map((i) => i.count) }],
  }, true);
}

// --- live gate events ---------------------------------------------------------------------------

function applyOccupancy(event) {
  const row = document.querySelector(`tr[data-venue-id="${event.venue_id}"]`);
  if (!row) return;
  row.querySelector(".inside").textContent = event.occupancy;
  if (event.direction === "entry") {
    const entered = row.querySelector(".entered");
    entered.textContent = Number(entered.textContent) + 1;
  }
  if (event.capacity) {
    row.querySelector(".percent").textContent = `${Math.floor((event.occupancy * 100) / event.capacity)}%`;
  }
  row.dataset.level = event.level || "";
  row.querySelector(".level").textContent = levelText(event.level);
  refreshLiveKpis();
  row.classList.remove("flash");
  void row.offsetWidth;  // restart the highlight animation
  row.classList.add("flash");
}

// The KPIs of people entered and inside follow the live table, between full reloads.
function refreshLiveKpis() {
  const total = (selector) => [...document.querySelectorAll(`#venues tbody ${selector}`)]
    .reduce((sum, cell) => sum + Number(cell.textContent || 0), 0);
  const show = (name, value) => {
    const node = document.querySelector(`[data-kpi="${name}"] .value`);
    if (node) node.textContent = value;
  };
  show("kpi_entered", total(".entered"));
  show("kpi_inside", total(".inside"));
  show("kpi_warnings", total(".warnings"));
}

function showWarning(event, count = true) {
  const key = `${event.venue_id}-${event.date}-${event.threshold}-${event.occupancy}`;
  if (document.querySelector(`.banner[data-key="${key}"]`)) return;
  const banner = document.createElement("div");
  banner.className = `banner threshold-${event.threshold}`;
  banner.dataset.key = key;
  banner.dataset.venueId = event.venue_id;
  const name = venueNames.get(event.venue_id) || `#${event.venue_id}`;
  banner.textContent = `⚠ ${name} ${t("warning_text")} ${event.threshold}% (${event.occupancy}/${event.capacity})`;
  $("#banners").prepend(banner);
  while ($("#banners").children.length > 5) $("#banners").lastChild.remove();
  if (count) {
    const cell = document.querySelector(`tr[data-venue-id="${event.venue_id}"] .warnings`);
    if (cell) cell.textContent = Number(cell.textContent) + 1;
    refreshLiveKpis();
  }
}

function dispatch(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trim());
  }
  if (!data.length) return;
  const payload = JSON.parse(data.join("\n"));
  if (name === "ready") {
    document.body.dataset.stream = "live";
    $("#live").textContent = t("live");
  } else if (name === "occupancy") {
    applyOccupancy(payload);
  } else if (name === "warning") {
    showWarning(payload);
  }
}

async function followGateEvents() {
  if (streamController) streamController.abort();
  const controller = new AbortController();
  streamController = controller;
  while (token && !controller.signal.aborted) {
    try {
      const response = await api("/api/v1/admin/cockpit/stream", { signal: controller.signal });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return;
    }
    document.body.dataset.stream = "off";
    $("#live").textContent = t("offline");
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    if (token) loadFigures().catch(() => {});  // what happened while the stream was down
  }
}

// --- exports ----------------------------------------------------------------------------------

async function download(kind, format) {
  $("#export-status").textContent = t("exporting");
  try {
    const range = new URLSearchParams({ start: $("#start").value, end: $("#end").value, format });
    const response = await api(`/api/v1/admin/exports/${kind}?${range}`);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = `${kind}-${$("#start").value}-${$("#end").value}.${format}`;
    link.click();
    URL.revokeObjectURL(link.href);
    $("#export-status").textContent = t("exported");
  } catch (error) {
    $("#export-status").textContent = error.message;
  }
}

// --- start ------------------------------------------------------------------------------------

function tick() {
  $("#clock").textContent = new Date().toLocaleString(language, { timeZone: "Asia/Shanghai" });
}

document.addEventListener("DOMContentLoaded", () => {
  applyLanguage();
  $("#login-form").addEventListener("submit", signIn);
  $("#range").addEventListener("submit", (event) => { event.preventDefault(); loadFigures(); });
  document.querySelectorAll("[data-action=language]").forEach((button) => button.addEventListener("click", () => {
    language = language === "zh-CN" ? "en" : "zh-CN";
    localStorage.setItem("etour.cockpit.lang", language);
    applyLanguage();
    if (token) loadFigures();
  }));
  document.querySelector("[data-action=logout]").addEventListener("click", () => signOut());
  document.querySelectorAll("[data-export]").forEach((button) => button.addEventListener("click", () => {
    download(button.dataset.export, button.dataset.format);
  }));
  window.addEventListener("resize", () => Object.values(charts).forEach((chart) => chart.resize()));
  tick();
  setInterval(tick, 1000);
  if (token) showCockpit();
  else $("#login").hidden = false;
});

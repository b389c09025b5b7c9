// The scanning screens (/pindai, /muatan): one session of scans, each posted to the device API.
//
// Every scan goes first into a queue kept in localStorage, then is sent in order; a scan that
// cannot be sent (no connection, server busy) stays queued and is retried with the same scan_id,
// which the API answers with its first answer, so a retry never records twice.
(() => {
  "use strict";

  const screen = document.getElementById("scan-screen");
  if (!screen) return;

  // What each mode sends, and which session fields it must have.
  const MODES = {
    kemas: { action: "pack", name: "Kemas", required: [] },
    segel: { action: "seal", name: "Segel", required: [] },
    kirim: { action: "dispatch", name: "Kirim", required: ["to"] },
    terima: { action: "receive", name: "Terima", required: ["witness"] },
    serah: { action: "receive", name: "Serah terima", required: ["handed_over_by", "witness"] },
    kembalikan: { action: "dispatch", name: "Kembalikan", required: ["to"] },
  };
  const SESSION_FIELDS = {
    kemas: [],
    segel: [],
    kirim: ["to", "surat_jalan", "vehicle", "driver"],
    terima: ["surat_jalan", "witness"],
    serah: ["handed_over_by", "witness", "surat_jalan"],
    kembalikan: ["to", "surat_jalan", "vehicle", "driver"],
  };
  const FIELD_NAMES = {
    location: "Lokasi pindai",
    officer: "Nama petugas",
    to: "Tujuan",
    witness: "Saksi",
    handed_over_by: "Yang menyerahkan",
  };
  const ACTION_WORDS = {
    pack: "Kemas", seal: "Segel", dispatch: "Kirim", receive: "Terima", account: "Hitung",
  };
  const STATUS_WORDS = {
    ok: "Tercatat", warning: "Tercatat, dengan peringatan", refused: "Ditolak",
    pending: "Tersimpan di perangkat, menunggu sambungan", sending: "Mengirim…",
  };
  // 401: the session ran out; the scan stays queued until the worker logs in again.
  const RETRY_STATUSES = new Set([401, 408, 409, 425, 429]);
  const QUEUE_KEY = "lacak.antrean";
  const PLAN_KEY = "lacak.rencana"; // label -> planned count, as read from the plan
  const OFFICER_KEY = "lacak.petugas"; // who and where, carried from one session to the next
  const MAX_LIST = 500;
  const SEND_TIMEOUT_MS = 10000;

  const kind = screen.dataset.screen; // "pindai" or "muatan"
  const fixedSuratJalan = screen.dataset.suratJalan || "";
  const sessionKey = kind === "muatan"
    ? `lacak.sesi.muatan.${screen.dataset.stage}.${fixedSuratJalan}`
    : "lacak.sesi.pindai";
  const listKey = sessionKey.replace("lacak.sesi", "lacak.daftar");

  const sessionForm = document.getElementById("scan-session");
  const panel = document.getElementById("scan-panel");
  const scanForm = document.getElementById("scan-form");
  const scanInput = document.getElementById("scan-input");
  const result = document.getElementById("scan-result");
  const list = document.getElementById("scan-list");
  const summary = document.getElementById("session-summary");
  const formError = sessionForm.querySelector(".form-error");
  const placeOptions = document.getElementById("place-options");

  let session = null; // {mode, location, officer, to, ...} while scanning
  let pendingLabel = ""; // a label waiting for its seal numbers (segel)
  const placeNames = new Map(); // code -> name, or null when not a place

  // ---- storage ----------------------------------------------------------------------------
  const read = (key, fallback) => {
    try {
      const value = JSON.parse(localStorage.getItem(key));
      return value ?? fallback;
    } catch {
      return fallback;
    }
  };
  const write = (key, value) => {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch {
      /* storage full or disabled: the screen still works for this page's life */
    }
  };

  // ---- ids and times ------------------------------------------------------------------------
  function newScanId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    // Plain http on a local network is not a secure context: build a v4 UUID by hand.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function deviceTime(date = new Date()) {
    // The device's clock with its own offset: 2024-02-10T08:15:00.123+07:00
    const pad = (n, width = 2) => String(Math.abs(n)).padStart(width, "0");
    const offset = -date.getTimezoneOffset();
    const sign = offset >= 0 ? "+" : "-";
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
      `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
      `.${pad(date.getMilliseconds(), 3)}${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
  }

  // A time as people at this gudang read it, with its zone: "08.15.02 WIB".
  const zone = screen.dataset.zone || "Asia/Jakarta";
  const zoneName = screen.dataset.zoneName || "WIB";
  const clock = (iso) =>
    `${new Date(iso).toLocaleTimeString("id-ID", { hour12: false, timeZone: zone })} ${zoneName}`;

  // ---- places -------------------------------------------------------------------------------
  async function placeName(code) {
    code = code.trim();
    if (!code) return null;
    if (placeNames.has(code)) return placeNames.get(code);
    const response = await fetch(`/api/v1/places/${encodeURIComponent(code)}`);
    if (response.status === 404) {
      placeNames.set(code, null);
      return null;
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const place = await response.json();
    placeNames.set(code, place.name);
    return place.name;
  }

  let searchTimer = 0;
  function suggestPlaces(query) {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      try {
        const response = await fetch(`/api/v1/places?q=${encodeURIComponent(query.trim())}`);
        if (!response.ok) return;
        placeOptions.replaceChildren(...(await response.json()).map((place) => {
          placeNames.set(place.code, place.name);
          const option = document.createElement("option");
          option.value = place.code;
          option.label = place.name;
          option.textContent = place.name;
          return option;
        }));
      } catch {
        /* offline: the typed code is checked when the session starts */
      }
    }, 200);
  }

  // A name typed instead of a code: the place it names, if it names exactly one.
  async function codeOfName(text) {
    const response = await fetch(`/api/v1/places?q=${encodeURIComponent(text)}`);
    if (!response.ok) return null;
    const found = await response.json();
    const exact = found.filter((p) => p.name.toLowerCase() === text.toLowerCase());
    const only = exact.length === 1 ? exact[0] : found.length === 1 ? found[0] : null;
    if (only) placeNames.set(only.code, only.name);
    return only ? only.code : null;
  }

  async function showPlace(input) {
    const output = sessionForm.querySelector(`[data-place-of="${input.name}"]`);
    if (!output) return;
    const code = input.value.trim();
    if (!code) {
      output.textContent = "";
      return;
    }
    try {
      if ((await placeName(code)) === null && /[a-z]/i.test(code)) {
        const named = await codeOfName(code);
        if (named) input.value = named;
      }
      const name = await placeName(input.value.trim());
      output.textContent = name ? `✓ ${name}` : "✗ kode wilayah tidak dikenal";
      output.className = name ? "place-ok" : "place-unknown";
    } catch {
      output.textContent = "";
    }
  }

  // The level above a place, where a return goes: TPS -> desa -> kecamatan -> gudang.
  function parentOf(code) {
    if (/^\d{13}$/.test(code)) {
      return `${code.slice(0, 2)}.${code.slice(2, 4)}.${code.slice(4, 6)}.${code.slice(6, 10)}`;
    }
    const parts = code.split(".");
    return parts.length > 2 ? parts.slice(0, -1).join(".") : "";
  }

  // ---- the session --------------------------------------------------------------------------
  const field = (name) => sessionForm.elements.namedItem(name);
  const currentMode = () => {
    const mode = sessionForm.elements.namedItem("mode");
    return mode ? mode.value : "";
  };

  function showModeFields(mode) {
    for (const element of document.querySelectorAll("[data-modes]")) {
      element.hidden = !element.dataset.modes.split(" ").includes(mode || "-"); // "-": none yet
    }
  }

  function fillSession(saved) {
    const officer = read(OFFICER_KEY, {});
    for (const element of sessionForm.elements) {
      if (!element.name || element.readOnly || element.type === "hidden") continue;
      if (element.type === "radio") {
        if (saved.mode) element.checked = element.value === saved.mode;
        continue;
      }
      // A value the page brought (the load as recorded) wins over what this device remembers.
      if (element.defaultValue) continue;
      element.value = saved[element.name] ?? officer[element.name] ?? "";
    }
  }

  function readSession() {
    const mode = currentMode();
    const values = { mode };
    for (const name of ["location", "officer", ...SESSION_FIELDS[mode] || []]) {
      values[name] = (field(name)?.value || "").trim();
    }
    return values;
  }

  async function startSession(event) {
    event.preventDefault();
    await Promise.all(["location", "to"].map((name) => showPlace(field(name))));
    const values = readSession();
    const problems = [];
    if (!MODES[values.mode]) problems.push("Pilih tindakan.");
    for (const name of ["location", "officer", ...(MODES[values.mode]?.required || [])]) {
      if (!values[name]) problems.push(`${FIELD_NAMES[name]} wajib diisi.`);
    }
    try {
      for (const name of ["location", "to"]) {
        if (values[name] && (await placeName(values[name])) === null) {
          problems.push(`${FIELD_NAMES[name]}: kode wilayah ${values[name]} tidak dikenal.`);
        }
      }
    } catch {
      problems.push("Tidak tersambung ke server: kode wilayah belum bisa diperiksa.");
    }
    if (problems.length) {
      formError.textContent = problems.join(" ");
      formError.hidden = false;
      return;
    }
    formError.hidden = true;
    unlockSound();
    session = { ...values, active: true };
    write(sessionKey, session);
    write(OFFICER_KEY, { location: values.location, officer: values.officer, witness: values.witness || "" });
    if (values.mode === "kemas") keepPlan(values.location);
    await openPanel();
  }

  // A label as the plan names it: "3604-00m7-7" or "360400M77" typed -> "3604-00M7-7"; O, I and
  // L are read as 0, 1 and 1, as the server reads them.
  function planKey(typed) {
    const compact = typed.toUpperCase().replace(/[-\s]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");
    return `${compact.slice(0, 4)}-${compact.slice(4, -1)}-${compact.slice(-1)}`;
  }

  // The plan of every kotak suara packed here, kept on the device while there is a connection:
  // a box packed without one is then packed with its planned count.
  async function keepPlan(location) {
    try {
      const response = await fetch(`/api/v1/plan?area=${encodeURIComponent(location)}`);
      if (response.ok) write(PLAN_KEY, { ...read(PLAN_KEY, {}), ...(await response.json()) });
    } catch {
      /* no connection now: the labels read one by one are kept as before */
    }
  }

  async function openPanel() {
    showModeFields(session.mode);
    const parts = [MODES[session.mode].name, await placeLabel(session.location)];
    if (session.to) parts.push(`ke ${await placeLabel(session.to)}`);
    if (session.surat_jalan) parts.push(`SJ ${session.surat_jalan}`);
    if (session.vehicle || session.driver) parts.push([session.vehicle, session.driver].filter(Boolean).join(" / "));
    if (session.handed_over_by) parts.push(`diserahkan ${session.handed_over_by}`);
    parts.push(`petugas ${session.officer}`);
    if (session.witness) parts.push(`saksi ${session.witness}`);
    summary.textContent = parts.join(" · ");
    sessionForm.hidden = true;
    panel.hidden = false;
    scanInput.focus();
  }

  async function placeLabel(code) {
    try {
      return (await placeName(code)) || code;
    } catch {
      return code;
    }
  }

  function changeSession() {
    session.active = false;
    write(sessionKey, session);
    panel.hidden = true;
    sessionForm.hidden = false;
    showModeFields(currentMode());
  }

  // A return goes one level up from where it is scanned, unless the officer says otherwise.
  function defaultReturn() {
    field("to").value = parentOf(field("location").value.trim());
    showPlace(field("to"));
  }

  // ---- one scan -----------------------------------------------------------------------------
  const scanField = (name) => scanForm.elements.namedItem(name);

  function splitSeals(text) {
    return text.split(/[,;\s]+/).map((s) => s.trim()).filter(Boolean);
  }

  // The body of POST /api/v1/scans for this label, from the session and the per-box fields.
  function scanBody(label) {
    const body = {
      scan_id: newScanId(),
      label,
      action: MODES[session.mode].action,
      location: session.location,
      occurred_at: deviceTime(),
      officer: session.officer,
    };
    for (const name of SESSION_FIELDS[session.mode]) {
      if (session[name]) body[name] = session[name];
    }
    if (session.mode === "segel") body.seals = splitSeals(scanField("seals").value);
    if (session.mode === "kemas" && scanField("quantity").value !== "") {
      body.quantity = Number(scanField("quantity").value);
    }
    if (MODES[session.mode].action === "receive") {
      if (scanField("counted").value !== "") body.counted = Number(scanField("counted").value);
      body.condition = scanForm.querySelector("input[name=condition]:checked")?.value || "baik";
      if (scanField("no_seal").checked) body.seals = [];
      else if (scanField("seals_found").value.trim()) body.seals = splitSeals(scanField("seals_found").value);
      body.reasons = [...scanForm.querySelectorAll("input[name=reasons]:checked")].map((c) => c.value);
    }
    return body;
  }

  async function submitScan(event) {
    event.preventDefault();
    const typed = scanInput.value.replace(/\s+/g, ""); // "3604 00M7 7" as typed by hand
    scanInput.value = "";
    const label = typed || pendingLabel;
    if (!session || !label) {
      scanInput.focus();
      return;
    }
    if (session.mode === "segel" && !scanField("seals").value.trim()) {
      pendingLabel = label; // a seal scan needs its numbers: ask, then Enter sends it
      show({ status: "pending", label, headline: `Ketik nomor segel untuk ${label}, lalu Enter.` });
      scanField("seals").focus();
      return;
    }
    pendingLabel = "";
    const body = scanBody(label);
    scanForm.reset(); // the per-box details were for this box only
    // Back to the input for the next scan; but a phone scanning with its camera would pop up
    // its keyboard over the picture, so there the focus stays where it was.
    if (scanInput.dataset.source !== "camera") scanInput.focus();
    delete scanInput.dataset.source;
    if (session.mode === "kemas" && body.quantity === undefined) {
      const planned = await plannedQuantity(body);
      if (planned === null) return;
      body.quantity = planned;
    }
    const entry = addEntry(body);
    enqueue(body, entry);
  }

  // A pack without a typed count packs what the plan says; the label is checked on the way.
  // Every plan read is kept on the device, so a pack without a connection packs it too.
  async function plannedQuantity(body) {
    try {
      const response = await fetch(`/api/v1/labels/${encodeURIComponent(body.label)}`);
      if (response.ok) {
        const plan = await response.json();
        write(PLAN_KEY, { ...read(PLAN_KEY, {}), [plan.label]: plan.quantity }); // read now: keepPlan may have written meanwhile
        return plan.quantity;
      }
      const refusal = await refusalOf(response);
      settle(addEntry(body), { kind: "refused", detail: refusal });
    } catch {
      const known = read(PLAN_KEY, {});
      const label = planKey(body.label);
      if (Object.hasOwn(known, label)) return known[label];
      settle(addEntry(body), {
        kind: "refused",
        detail: "Tidak tersambung, dan rencana kotak ini belum pernah dibaca di perangkat ini: isi jumlah dihitung untuk kotak ini.",
      });
    }
    return null;
  }

  async function refusalOf(response) {
    try {
      const answer = await response.json();
      const extra = Array.isArray(answer.extra) ? answer.extra.map((e) => e.message || "").filter(Boolean) : [];
      return [answer.detail || `Ditolak (HTTP ${response.status}).`, ...extra].join(" ");
    } catch {
      return `Ditolak (HTTP ${response.status}).`;
    }
  }

  // ---- the queue ----------------------------------------------------------------------------
  let draining = false;
  let retryTimer = 0;
  let retryDelay = 2000;

  function enqueue(body, entry) {
    const queue = read(QUEUE_KEY, []);
    queue.push({ body, list: listKey, entry: entry.id });
    write(QUEUE_KEY, queue);
    updateCounts();
    drain();
  }

  async function send(body) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), SEND_TIMEOUT_MS);
    try {
      const response = await fetch("/api/v1/scans", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          // the session's CSRF token, from the page (web/auth.py)
          "x-csrf-token": document.querySelector('meta[name="csrf-token"]')?.content ?? "",
        },
        body: JSON.stringify(body),
        signal: abort.signal,
      });
      if (response.ok) return { kind: "answered", answer: await response.json() };
      if (response.status >= 500 || RETRY_STATUSES.has(response.status)) return { kind: "later" };
      return { kind: "refused", detail: await refusalOf(response) };
    } catch {
      return { kind: "later" }; // no connection, or no answer in time: same scan_id next time
    } finally {
      clearTimeout(timer);
    }
  }

  async function drain() {
    if (draining) return;
    draining = true;
    clearTimeout(retryTimer);
    try {
      for (;;) {
        const queue = read(QUEUE_KEY, []);
        if (!queue.length) break;
        const item = queue[0];
        const outcome = await send(item.body);
        if (outcome.kind === "later") {
          markWaiting(item);
          retryTimer = setTimeout(drain, retryDelay);
          retryDelay = Math.min(retryDelay * 2, 30000);
          break;
        }
        retryDelay = 2000;
        write(QUEUE_KEY, read(QUEUE_KEY, []).filter((q) => q.body.scan_id !== item.body.scan_id));
        await settleQueued(item, outcome);
      }
    } finally {
      draining = false;
      updateCounts();
    }
  }

  function markWaiting(item) {
    const entries = read(item.list, []);
    for (const entry of entries) {
      if (entry.scan_id === item.body.scan_id && entry.status === "sending") {
        entry.status = "pending";
        entry.headline = `TERSIMPAN · ${entry.label}`;
        entry.message = "Belum terkirim (tidak tersambung); dikirim lagi otomatis.";
      }
    }
    write(item.list, entries);
    if (item.list === listKey) {
      renderList();
      const entry = entries.find((e) => e.scan_id === item.body.scan_id);
      if (entry && entry.id === lastEntryId) show(entry);
    }
  }

  async function settleQueued(item, outcome) {
    if (item.list !== listKey) {
      const entries = read(item.list, []); // a scan from another screen of this device
      const entry = entries.find((e) => e.scan_id === item.body.scan_id);
      if (entry) Object.assign(entry, describe(entry, outcome, null));
      write(item.list, entries);
      return;
    }
    const entry = read(listKey, []).find((e) => e.scan_id === item.body.scan_id);
    if (entry) settle(entry, outcome);
  }

  // ---- answers ------------------------------------------------------------------------------
  let lastEntryId = 0;

  function addEntry(body) {
    const entries = read(listKey, []);
    const entry = {
      id: Date.now() * 1000 + Math.floor(Math.random() * 1000),
      scan_id: body.scan_id,
      label: body.label,
      action: body.action,
      at: body.occurred_at,
      status: "sending",
      headline: body.label,
      message: STATUS_WORDS.sending,
      warnings: [],
    };
    if (!navigator.onLine) { // no connection now: say so at once, not "sending"
      Object.assign(entry, {
        status: "pending",
        headline: `TERSIMPAN · ${body.label}`,
        message: "Tidak tersambung: pindai disimpan di perangkat dan dikirim otomatis.",
      });
    }
    entries.unshift(entry);
    write(listKey, entries.slice(0, MAX_LIST));
    lastEntryId = entry.id;
    renderList();
    show(entry);
    return entry;
  }

  function describe(entry, outcome) {
    if (outcome.kind === "refused") {
      return { status: "refused", headline: `DITOLAK · ${entry.label}`, message: outcome.detail, warnings: [] };
    }
    const answer = outcome.answer;
    const warnings = [...answer.warnings];
    return {
      status: warnings.length ? "warning" : "ok",
      label: answer.label,
      headline: `${warnings.length ? "PERINGATAN" : "OK"} · ${answer.label}`,
      message: answer.message,
      warnings,
    };
  }

  function settle(entry, outcome) {
    const entries = read(listKey, []);
    const stored = entries.find((e) => e.id === entry.id) || entry;
    Object.assign(stored, describe(stored, outcome));
    if (!entries.includes(stored)) entries.unshift(stored);
    write(listKey, entries);
    renderList();
    if (stored.id === lastEntryId || outcome.kind === "refused") {
      show(stored);
      tone(stored.status);
    }
    document.body.dispatchEvent(new CustomEvent("scanned", { detail: stored }));
  }

  function show(entry) {
    result.dataset.status = entry.status;
    const headline = document.createElement("p");
    headline.className = "headline";
    headline.textContent = entry.headline;
    const parts = [headline];
    if (entry.message && entry.message !== entry.headline) {
      const message = document.createElement("p");
      message.className = "message";
      message.textContent = entry.message;
      parts.push(message);
    }
    if (entry.warnings?.length) {
      const warnings = document.createElement("ul");
      warnings.className = "warnings";
      for (const text of entry.warnings) {
        const item = document.createElement("li");
        item.textContent = text;
        warnings.append(item);
      }
      parts.push(warnings);
    }
    result.replaceChildren(...parts);
  }

  function renderList() {
    const entries = read(listKey, []);
    list.replaceChildren(...entries.map((entry) => {
      const item = document.createElement("li");
      item.className = `st-${entry.status}`;
      item.dataset.scanId = entry.scan_id;
      const label = document.createElement("strong");
      label.className = "box-label";
      label.textContent = entry.label;
      const what = document.createElement("span");
      what.className = "what";
      what.textContent = `${ACTION_WORDS[entry.action] || entry.action} · ${STATUS_WORDS[entry.status]}`;
      const time = document.createElement("time");
      time.dateTime = entry.at;
      time.textContent = clock(entry.at);
      const message = document.createElement("span");
      message.className = "message";
      message.textContent = [entry.message, ...(entry.warnings || [])].join(" ");
      item.append(label, what, time, message);
      return item;
    }));
    updateCounts(entries);
  }

  function updateCounts(entries = read(listKey, [])) {
    const counts = { ok: 0, warning: 0, refused: 0 };
    for (const entry of entries) if (entry.status in counts) counts[entry.status] += 1;
    counts.pending = read(QUEUE_KEY, []).length;
    for (const [name, value] of Object.entries(counts)) {
      const element = document.querySelector(`[data-count="${name}"]`);
      if (element) element.textContent = String(value);
    }
    document.getElementById("pending-count")?.closest(".count")?.classList.toggle("waiting", counts.pending > 0);
  }

  // ---- sound --------------------------------------------------------------------------------
  let audio = null;
  function unlockSound() {
    try {
      audio ||= new AudioContext();
      if (audio.state === "suspended") audio.resume();
    } catch {
      audio = null; // no audio here: the colour tells the answer
    }
  }

  const TONES = {
    ok: [[1046, 0, 0.12, "sine"]],
    warning: [[622, 0, 0.16, "triangle"], [622, 0.22, 0.16, "triangle"]],
    refused: [[165, 0, 0.5, "square"]],
  };

  function tone(status) {
    const plan = TONES[status];
    if (!plan) return;
    result.dataset.tone = status;
    navigator.vibrate?.(status === "ok" ? 60 : [150, 80, 150]);
    unlockSound();
    if (!audio) return;
    const start = audio.currentTime + 0.01;
    for (const [frequency, at, length, type] of plan) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = type;
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + at);
      gain.gain.exponentialRampToValueAtTime(0.25, start + at + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + at + length);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(start + at);
      oscillator.stop(start + at + length + 0.02);
    }
  }

  // ---- wiring -------------------------------------------------------------------------------
  sessionForm.addEventListener("submit", startSession);
  sessionForm.addEventListener("change", (event) => {
    if (event.target.name === "mode") {
      showModeFields(event.target.value);
      if (event.target.value === "kembalikan" && !field("to").value) defaultReturn();
    }
  });
  for (const name of ["location", "to"]) {
    field(name).addEventListener("input", (event) => suggestPlaces(event.target.value));
    field(name).addEventListener("change", (event) => showPlace(event.target));
  }
  field("location").addEventListener("change", () => {
    if (currentMode() === "kembalikan" && !field("to").value) defaultReturn();
  });
  scanForm.addEventListener("submit", submitScan);
  scanInput.addEventListener("keydown", unlockSound, { once: true });
  scanForm.addEventListener("change", (event) => {
    // A damaged or wet box, or one without seals: tick the matching reason for the officer.
    const reason = { rusak: "rusak", basah: "basah" }[event.target.value] ||
      (event.target.name === "no_seal" && event.target.checked ? "segel_rusak" : "");
    if ((event.target.name === "condition" || event.target.name === "no_seal") && reason) {
      const box = scanForm.querySelector(`input[name=reasons][value=${reason}]`);
      if (box) box.checked = true;
    }
  });
  // The scan input keeps the focus, unless the officer is filling in another field.
  panel.addEventListener("click", (event) => {
    if (!event.target.closest("input, select, textarea, button, label, a")) scanInput.focus();
  });
  document.getElementById("change-session").addEventListener("click", changeSession);
  document.getElementById("clear-list").addEventListener("click", () => {
    write(listKey, []);
    renderList();
    scanInput.focus();
  });
  window.addEventListener("online", drain);
  window.addEventListener("storage", (event) => {
    if (event.key === QUEUE_KEY || event.key === listKey) renderList();
  });

  const saved = read(sessionKey, {});
  fillSession(saved);
  showModeFields(currentMode());
  for (const name of ["location", "to"]) showPlace(field(name));
  renderList();
  if (saved.active && MODES[saved.mode]) {
    session = saved;
    openPanel();
  }
  drain(); // what an earlier visit left unsent
})();

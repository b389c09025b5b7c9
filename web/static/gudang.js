// The gudang's pages. The officer's forms: each posts its JSON to the API with a fresh command id
// (sent again after a lost answer, it is recorded once) and shows the answer, differences flagged
// included. The live page: its flags stay folded or unfolded as the reader left them when the
// stream swaps the live part in again.
"use strict";

document.addEventListener("htmx:oobBeforeSwap", (event) => {
  const shown = event.detail.target.querySelector?.("details.flags");
  const coming = event.detail.fragment.querySelector?.("details.flags");
  if (shown && coming) coming.open = shown.open;
});

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const number = (input) => Number.parseInt(input.value || "0", 10);

// One id per filled-in form, kept until the server answers: a retry is recorded once. Not
// crypto.randomUUID alone: a phone on the gudang's LAN over http has none.
function commandId(form) {
  if (!form.dataset.commandId) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    form.dataset.commandId = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
  return form.dataset.commandId;
}

// The lines of the delivery chosen; its number asked for one that came without a notice.
function shownLines(form) {
  const delivery = form.elements.delivery?.value;
  for (const set of form.querySelectorAll("fieldset.lines")) {
    set.hidden = set.dataset.delivery !== delivery;
    for (const input of set.querySelectorAll("input")) input.disabled = set.hidden;
  }
  const unannounced = form.elements.unannounced;
  if (unannounced) {
    unannounced.closest("label").hidden = unannounced.disabled = delivery !== "";
    unannounced.required = delivery === "";
    if (delivery === "" && !form.querySelector("fieldset.free-line")) addLine(form, false);
  }
}

const deliveryOf = (form) => form.elements.delivery.value || form.elements.unannounced.value;

// A line of goods typed in (a contract's, or what arrived beyond a notice): item, ballot type,
// dapil, quantity; a ballot type and a dapil only for ballots.
function addLine(form, focus = true) {
  const lines = form.querySelector("fieldset.free-lines");
  const line = lines.querySelector("template").content.firstElementChild.cloneNode(true);
  lines.querySelector("button.add-line").before(line);
  if (focus) line.querySelector("select").focus();
}

function kindChosen(line) {
  const ballot = line.querySelector('[name="item"]').value === "surat_suara";
  for (const input of line.querySelectorAll('[name="ballot_type"], [name="dapil"]')) {
    input.disabled = !ballot;
    if (!ballot) input.value = "";
  }
}

function freeLines(form) {
  return [...form.querySelectorAll("fieldset.free-line")]
    .map((line) => {
      const field = (name) => line.querySelector(`[name="${name}"]`);
      const found = { item: field("item").value, ballot_type: field("ballot_type").value,
        dapil: field("dapil").value, quantity: number(field("quantity")) };
      if (field("damaged")) found.damaged = number(field("damaged"));
      return found;
    })
    .filter((line) => line.quantity > 0);
}

function body(form) {
  const f = form.elements;
  const said = { command_id: commandId(form), occurred_at: new Date().toISOString() };
  switch (form.dataset.kind) {
    case "receipt": {
      const set = f.delivery.value
        ? form.querySelector(`fieldset.lines[data-delivery="${CSS.escape(f.delivery.value)}"]`)
        : null;
      const announced = [...(set?.querySelectorAll(".line") ?? [])].map((line) => ({
        item: line.dataset.item,
        ballot_type: line.dataset.ballotType,
        dapil: line.dataset.dapil,
        quantity: number(line.querySelector('[name="quantity"]')),
        damaged: number(line.querySelector('[name="damaged"]')),
      }));
      const lines = [...announced, ...freeLines(form)];
      return { ...said, delivery: deliveryOf(form), lines, courier: f.courier.value,
        officer: f.officer.value, witness: f.witness.value, surat_jalan: f.surat_jalan.value,
        note: f.note.value };
    }
    case "tally": {
      const [ballot_type, dapil] = f.kind.value.split("|");
      const damaged = {};
      for (const input of form.querySelectorAll('[name^="damaged:"]')) {
        if (number(input)) damaged[input.name.slice(8)] = number(input);
      }
      return { ...said, ballot_type, dapil, session: f.session.value, team: f.team.value,
        sorted: number(f.sorted), damaged };
    }
    case "assembly":
      return { ...said, team: f.team.value, count: number(f.count) };
    case "contract":
      return { ...said, supplier: f.supplier.value, contract: f.contract.value,
        lines: freeLines(form) };
    case "replacement":
      return { ...said, request: f.request.value, lines: stockLines(form), note: f.note.value };
    case "destruction":
      return { ...said, record: f.record.value, lines: stockLines(form), officer: f.officer.value,
        witnesses: f.witnesses.value.split("\n").map((w) => w.trim()).filter(Boolean),
        method: f.method.value };
  }
  return said;
}

function stockLines(form) {
  return [...form.querySelectorAll(".stock-lines .line")]
    .map((line) => ({
      item: line.dataset.item,
      ballot_type: line.dataset.ballotType,
      dapil: line.dataset.dapil,
      quantity: number(line.querySelector("input")),
    }))
    .filter((line) => line.quantity > 0);
}

// A notice comes as the supplier's CSV, its stage's details in the query.
function request(form) {
  if (form.dataset.kind !== "notice") {
    return { url: form.dataset.endpoint, type: "application/json", body: JSON.stringify(body(form)) };
  }
  const f = form.elements;
  const query = new URLSearchParams({ delivery: f.delivery.value, stage: f.stage.value,
    supplier: f.supplier.value, contract: f.contract.value, expected_on: f.expected_on.value });
  return { url: `${form.dataset.endpoint}?${query}`, type: "text/csv", body: f.file.files[0] };
}

// The Berita Acara a recorded form has, to print and sign.
function printable(form) {
  const gudang = form.closest("[data-gudang]").dataset.gudang;
  const f = form.elements;
  switch (form.dataset.kind) {
    case "receipt":
      return { name: "penerimaan", href: `/gudang/${gudang}/ba?pengiriman=${encodeURIComponent(deliveryOf(form))}` };
    case "destruction":
      return { name: "pemusnahan", href: `/gudang/${gudang}/pemusnahan?nomor=${encodeURIComponent(f.record.value)}` };
  }
  return null;
}

async function send(event) {
  event.preventDefault();
  const form = event.target;
  const answer = form.querySelector("output.answer");
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  answer.className = "answer";
  answer.textContent = "Mengirim…";
  try {
    const sent = request(form);
    const response = await fetch(sent.url, {
      method: "POST",
      headers: { "content-type": sent.type, "x-csrf-token": csrf() },
      body: sent.body,
    });
    const result = await response.json().catch(() => ({}));
    if (response.status < 500) delete form.dataset.commandId;  // answered: the next is new
    if (!response.ok) {
      answer.className = "answer bad";
      answer.textContent = result.detail || `Gagal (${response.status})`;
      return;
    }
    const names = JSON.parse(form.closest(".gudang-forms").dataset.mismatchNames || "{}");
    const flagged = (result.mismatches || []).map((m) =>
      `${names[m.kind] || m.kind}: ${[m.ballot_type, m.dapil].filter(Boolean).join(" ") || m.item} (diharapkan ${m.expected}, dihitung ${m.counted})`);
    answer.className = flagged.length ? "answer warn" : "answer ok";
    answer.textContent = flagged.length
      ? `Tercatat, dengan selisih: ${flagged.join("; ")}`
      : "Tercatat.";
    const record = printable(form);
    if (record) {
      const link = document.createElement("a");
      link.href = record.href;
      link.textContent = ` Cetak Berita Acara ${record.name}`;
      answer.append(link);
    }
  } catch (error) {
    answer.className = "answer bad";
    answer.textContent = "Tidak tersambung ke server; kirim lagi nanti (tercatat sekali saja).";
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form.gudang-form")) {
    form.addEventListener("submit", send);
    form.elements.delivery?.addEventListener("change", () => shownLines(form));
    form.querySelector("button.add-line")?.addEventListener("click", () => addLine(form));
    form.addEventListener("change", (event) => {
      if (event.target.name === "item") kindChosen(event.target.closest("fieldset.free-line"));
    });
    if (form.elements.delivery) shownLines(form);
  }
});

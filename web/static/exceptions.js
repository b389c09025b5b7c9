// The exceptions queue and the activity feed: what htmx does not do by itself.

// A refused action form (422, or 409 when the domain refused it) answers with its row: errors
// and what was typed. htmx leaves 4xx answers unswapped; these are meant to be swapped in.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  const source = event.detail.requestConfig && event.detail.requestConfig.elt;
  if ((status === 409 || status === 422) && source && source.closest("[data-swap-errors]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// A row whose form someone is filling in is not swapped by the stream: what they typed stays.
// Their own answer redraws the row; a later change redraws it again.
document.addEventListener("htmx:sseBeforeMessage", (event) => {
  const form = event.target.querySelector && event.target.querySelector("form.act-form");
  if (!form) return;
  const typing = form.contains(document.activeElement) ||
    Array.from(form.elements).some((field) => field.value && field.value.trim() !== "");
  if (typing) event.preventDefault();
});

// A live list keeps its newest items only: `data-keep` of them (plus the "empty" line).
document.addEventListener("htmx:sseMessage", (event) => {
  const list = event.target;
  const keep = Number(list.dataset && list.dataset.keep);
  if (!keep) return;
  const items = Array.from(list.children).filter((item) => !item.classList.contains("empty"));
  items.slice(keep).forEach((item) => item.remove());
});

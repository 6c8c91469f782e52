// Progressive enhancement for the partner pages. Every control works as a plain
// link or form without this file; here we open dialogs in place, keep focus where a
// keyboard user expects it, and track the file selection. Event delegation on the
// document keeps it working across htmx swaps.
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  // The side panel opens below the header, whose height changes when it wraps.
  const topbar = document.querySelector(".topbar");
  if (topbar && window.ResizeObserver) {
    new ResizeObserver(function () {
      document.documentElement.style.setProperty("--topbar-height", topbar.offsetHeight + "px");
    }).observe(topbar);
  }
  let lastOpener = null;

  function openDialog(dialog, opener) {
    if (!dialog) return;
    lastOpener = opener || document.activeElement;
    if (dialog.open) dialog.close();
    dialog.showModal();
    // The first control a keyboard user needs; hidden inputs (the CSRF token) take no
    // focus, and in the removal dialog Cancel comes before the destructive button.
    const focusable = dialog.querySelector(
      '[autofocus], summary, input:not([type="hidden"]), a[href], button:not([disabled])'
    );
    if (focusable) focusable.focus();
  }

  function closeMenus(except) {
    document.querySelectorAll("details.menu[open], details.dropdown[open]").forEach(function (menu) {
      if (menu !== except && !menu.contains(except)) menu.open = false;
    });
  }

  // --- Selection of files for bulk removal -------------------------------------------
  function selectionForm() { return document.querySelector("[data-selection]"); }
  function rowBoxes() { return Array.from(document.querySelectorAll('input[name="file"][form="selection"]')); }
  function selectAllBox() { return document.querySelector("[data-select-all]"); }

  function refreshSelection() {
    const form = selectionForm();
    if (!form) return;
    const all = selectAllBox();
    const boxes = rowBoxes();
    const checked = boxes.filter(function (b) { return b.checked; });
    const total = Number(form.dataset.total || 0);
    const status = form.querySelector("[data-selection-status]");
    const trash = form.querySelector("[data-trash]");
    const allSelected = all && all.checked;
    // Select all means every file: rows loaded later by scrolling arrive ticked.
    if (allSelected) boxes.forEach(function (b) { b.checked = true; });
    if (all) all.indeterminate = !allSelected && checked.length > 0;
    let text = "";
    if (allSelected) text = interpolate(status.dataset.all || "All {count} files selected", total);
    else if (checked.length) text = interpolate(status.dataset.some || "{count} selected", checked.length);
    status.textContent = text;
    trash.disabled = !(allSelected || checked.length);
  }

  function interpolate(template, count, name) {
    return template.replace("{count}", count.toLocaleString(document.documentElement.lang)).replace("{name}", name || "");
  }

  function namesAndMore(dialog, names, count) {
    const shown = names.slice(0, Number(dialog.dataset.namesShown || 5));
    const listed = shown.join(", ");
    if (count <= shown.length) return listed;
    return dialog.dataset.textMore.replace("{names}", listed)
      .replace("{count}", (count - shown.length).toLocaleString(document.documentElement.lang));
  }

  // Long file names may break after "_", "-" and "." on a narrow screen, not mid-word.
  function showBreakable(element, text) {
    element.replaceChildren();
    text.split(/(?<=[_.\-])/).forEach(function (part, index) {
      if (index) element.appendChild(document.createElement("wbr"));
      element.appendChild(document.createTextNode(part));
    });
  }

  function fillRemoveDialog(ids, names, all) {
    const dialog = document.getElementById("remove-dialog");
    if (!dialog) return null;
    const inputs = dialog.querySelector("[data-remove-inputs]");
    inputs.replaceChildren();
    function hidden(name, value) {
      const input = document.createElement("input");
      input.type = "hidden"; input.name = name; input.value = value;
      inputs.appendChild(input);
    }
    const form = selectionForm() || {dataset: {}};
    const total = Number(form.dataset.total || ids.length);
    let text;
    if (all) { hidden("all", "1"); text = interpolate(dialog.dataset.textAll, total); }
    else {
      ids.forEach(function (id) { hidden("file", id); });
      text = ids.length === 1 ? interpolate(dialog.dataset.textOne, 1, names[0]) : interpolate(dialog.dataset.textMany, ids.length);
    }
    dialog.querySelector("[data-remove-summary]").textContent = text;
    const one = !all && ids.length === 1;
    dialog.querySelector("#remove-title").textContent = one ? dialog.dataset.titleOne : dialog.dataset.titleMany;
    // Name the files too (the first few, by name). All of them: the rows on screen
    // are the request's first names, unless a name filter narrows the list.
    const count = all ? total : ids.length;
    const known = all && "filtered" in form.dataset ? [] : names;
    showBreakable(dialog.querySelector("[data-remove-names]"), count > 1 && known.length ? namesAndMore(dialog, known, count) : "");
    dialog.querySelector('button[type="submit"]').disabled = false;
    return dialog;
  }

  // --- Redelivery form: the button is usable once a reason is chosen -------------------
  function refreshRedeliveryForm(form) {
    const chosen = Array.from(form.querySelectorAll('input[name="reasons"]:checked'));
    const button = form.querySelector("[data-needs-reason]");
    const note = form.querySelector("[data-needs-reason-note]");
    button.disabled = chosen.length === 0;
    // A greyed-out button says why, beside it and to a screen reader.
    note.hidden = !button.disabled;
    if (button.disabled) button.setAttribute("aria-describedby", note.id);
    else button.removeAttribute("aria-describedby");
    const summary = form.querySelector("[data-reason-summary]");
    summary.textContent = chosen.length
      ? chosen.map(function (box) { return box.dataset.reasonName; }).join(", ")
      : summary.dataset.empty;
  }

  function refreshAll() {
    refreshSelection();
    document.querySelectorAll("[data-redelivery-form]").forEach(refreshRedeliveryForm);
    document.querySelectorAll("dialog[data-open-on-load]").forEach(function (dialog) {
      dialog.removeAttribute("data-open-on-load");
      openDialog(dialog, null);
    });
  }

  // --- Side panel --------------------------------------------------------------------
  let panelOpener = null;
  // The address says which file's panel is open (?file=<id>, the server's own deep
  // link to it), so that it can be copied and a reload shows the same panel. Replaced,
  // not pushed: Back leaves the page, as before, instead of stepping through panels.
  function showPanelInAddress(fileId) {
    const url = new URL(window.location.href);
    const params = url.searchParams;
    // With ?confirm=remove, "file" names the files to remove, not a panel.
    if (!fileId && params.has("confirm")) return;
    ["file", "edit", "t", "confirm", "all", "dialog"].forEach(function (key) {
      if (fileId || ["file", "edit", "t"].includes(key)) params.delete(key);
    });
    if (fileId) params.set("file", fileId);
    if (url.href !== window.location.href) {
      window.history.replaceState(window.history.state, "", url.href);
    }
  }

  function closePanel() {
    const panel = document.getElementById("side-panel");
    if (!panel || !panel.classList.contains("is-open")) return false;
    panel.classList.remove("is-open");
    panel.removeAttribute("data-file");
    panel.replaceChildren();
    showPanelInAddress(null);
    if (panelOpener && document.contains(panelOpener)) panelOpener.focus();
    return true;
  }

  document.addEventListener("click", function (event) {
    const target = event.target;
    const opener = target.closest("[data-open-dialog]");
    if (opener) {
      event.preventDefault();
      closeMenus(null);
      openDialog(document.getElementById(opener.dataset.openDialog), opener.closest("details") ? opener.closest("details").querySelector("summary") : opener);
      return;
    }
    const removeOne = target.closest("[data-remove-one]");
    if (removeOne) {
      event.preventDefault();
      const menu = removeOne.closest("details");
      closeMenus(null);
      openDialog(fillRemoveDialog([removeOne.dataset.removeOne], [removeOne.dataset.name], false), menu ? menu.querySelector("summary") : removeOne);
      return;
    }
    const closer = target.closest("[data-close-dialog]");
    if (closer) {
      event.preventDefault();
      closer.closest("dialog").close();
      return;
    }
    if (target.closest("[data-close-panel]")) {
      event.preventDefault();
      closePanel();
      return;
    }
    // Clicking anywhere on a file row opens its side panel, as the name link does.
    const row = target.closest("tr.file-row");
    if (row && !target.closest("a, button, input, label, details")) {
      const link = row.querySelector(".file-link");
      if (link) link.click();
    }
    if (target.closest(".file-link")) panelOpener = target.closest(".file-link");
    // A choice made closes its menu (Download leaves the page where it is, and the
    // open menu would cover the next row's).
    const item = target.closest("details.menu .menu-item");
    if (item && !item.matches('[aria-disabled="true"]')) item.closest("details").open = false;
    if (!target.closest("details")) closeMenus(null);
  });

  // A menu opens upward when the window has no room for it below its button.
  function placeMenu(menu) {
    const items = menu.querySelector(".menu-items");
    if (!items) return;
    menu.classList.remove("opens-up");
    const below = window.innerHeight - menu.getBoundingClientRect().bottom;
    const above = menu.getBoundingClientRect().top;
    const height = items.getBoundingClientRect().height;
    if (height > below && above > below) menu.classList.add("opens-up");
  }

  document.addEventListener("toggle", function (event) {
    if (!(event.target.matches && event.target.matches("details.menu") && event.target.open)) return;
    closeMenus(event.target);
    placeMenu(event.target);
  }, true);

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target.matches("[data-autosubmit]")) { target.form.submit(); return; }
    if (target.matches("[data-select-all]")) {
      rowBoxes().forEach(function (box) { box.checked = target.checked; });
      refreshSelection();
      return;
    }
    if (target.matches('input[name="file"][form="selection"]')) {
      const all = selectAllBox();
      if (all && !target.checked) all.checked = false;
      refreshSelection();
      return;
    }
    const redelivery = target.closest("[data-redelivery-form]");
    if (redelivery) refreshRedeliveryForm(redelivery);
  });

  document.addEventListener("input", function (event) {
    // The naming rule, checked as the partner types; the server checks it again.
    const input = event.target;
    if (!input.matches("#rename-input")) return;
    const error = document.getElementById("rename-error");
    const valid = new RegExp(input.dataset.pattern).test(input.value);
    input.setAttribute("aria-invalid", valid ? "false" : "true");
    if (valid) { error.hidden = true; error.textContent = ""; }
  });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.matches("[data-selection]")) {
      // The trash icon: confirm in a modal instead of loading the confirmation page.
      event.preventDefault();
      const all = selectAllBox() && selectAllBox().checked;
      const boxes = rowBoxes().filter(function (b) { return b.checked; });
      if (!all && !boxes.length) return;
      openDialog(fillRemoveDialog(
        boxes.map(function (b) { return b.value; }),
        boxes.map(function (b) { return b.dataset.name; }),
        all
      ), form.querySelector("[data-trash]"));
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    const openMenu = event.target.closest && event.target.closest("details[open]");
    if (openMenu) {
      // Close the innermost menu only, not the dialog around it.
      event.preventDefault();
      event.stopPropagation();
      openMenu.open = false;
      openMenu.querySelector("summary").focus();
      return;
    }
    if (!document.querySelector("dialog[open]") && closePanel()) event.preventDefault();
  });

  document.addEventListener("close", function (event) {
    if (event.target.tagName === "DIALOG" && lastOpener && document.contains(lastOpener)) {
      lastOpener.focus();
      lastOpener = null;
    }
  }, true);

  document.addEventListener("htmx:afterSettle", function (event) {
    refreshAll();
    // The event fires on each element the swap inserted. event.detail.target is the
    // element htmx swapped out: after an outerHTML swap it is detached and stale.
    const target = event.target;
    if (target.id === "side-panel") showPanelInAddress(target.dataset.file || null);
    if (target.id === "side-panel" && target.classList.contains("is-open")) {
      (target.querySelector("#rename-input") || target).focus();
    }
    // Only after an action: the page's own refresh while processing must not move a
    // keyboard user's focus.
    const verb = event.detail.requestConfig && event.detail.requestConfig.verb;
    if (target.id === "request-main" && verb && verb !== "get" &&
        (document.activeElement === document.body || !document.activeElement)) {
      const heading = document.getElementById("files-heading");
      if (heading) heading.focus();
    }
    const rename = document.getElementById("rename-input");
    if (rename && rename.getAttribute("aria-invalid") === "true") rename.focus();
  });

  // The refresh while processing waits while the partner has a menu, a dialog or the
  // file's side panel open, so that nothing closes under their hands.
  document.addEventListener("htmx:beforeRequest", function (event) {
    const source = event.detail.elt;
    if (!source || !source.hasAttribute || !source.hasAttribute("data-poll")) return;
    if (source.querySelector("details[open]") || document.querySelector("dialog[open]") ||
        document.querySelector("#side-panel.is-open")) {
      event.preventDefault();
    }
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    const panel = event.detail.target;
    if (panel && panel.id === "side-panel") {
      const input = panel.querySelector("#rename-input");
      if (input && input.getAttribute("aria-invalid") === "true") input.focus();
    }
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", refreshAll);
  else refreshAll();
})();

// The Details Page's uploader: Uppy's drop zone and file picker, tus uploads that
// resume after a dropped connection, and one row per file with its progress bar,
// speed, time left, pause/resume, retry and cancel. Every text comes translated from
// the template's data-text-* attributes. Built into static/js/uploader.bundle.js by
// `npm run build` (see frontend/build.mjs); runs under script-src 'self'.
import Uppy from "@uppy/core";
import DragDrop from "@uppy/drag-drop";
import Tus from "@uppy/tus";

const MIN_SAMPLE_MS = 500;
// While one long PATCH carries a file, its answer (and the early verdict in it) comes
// only at the end: the row asks HEAD instead, this often, this many times at most.
const EARLY_POLL_MS = 1000;
const EARLY_POLLS = 60;

function csrfToken() {
  // The token is on <body hx-headers>, where htmx finds it for every other action.
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch (error) {
    return "";
  }
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (match, key) => (key in values ? values[key] : match));
}

// Sizes as the file list writes them (Django's filesizeformat): powers of 1024
// labelled KB, MB, GB, TB, one decimal in the page's language; bytes below 1 KB.
let texts = {};

function formatBytes(bytes) {
  const units = ["KB", "MB", "GB", "TB", "PB"];
  if (bytes < 1024) {
    const whole = Math.round(bytes);
    // Django's own words, "1 byte" and "2 bytes" in the page's language (see
    // _uploader.html), with this count in place of theirs.
    return (whole === 1 ? texts.textByte : texts.textBytes).replace(/\d+/, String(whole));
  }
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toLocaleString(document.documentElement.lang || undefined, {
    maximumFractionDigits: 1,
    minimumFractionDigits: 1,
    useGrouping: false,
  })} ${units[unit]}`;
}

function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return "–";
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  const two = (n) => String(n).padStart(2, "0");
  return hours ? `${hours}:${two(minutes)}:${two(secs)}` : `${minutes}:${two(secs)}`;
}

function isFinalRefusal(error) {
  // A 4xx other than a conflict, a lock or a rate limit won't change on retry: a
  // refused name, a request no longer open, a file too large.
  const response = error && error.originalResponse;
  const status = response && typeof response.getStatus === "function" ? response.getStatus() : 0;
  return status >= 400 && status < 500 && ![409, 423, 429].includes(status);
}

function serverMessage(error) {
  // tus-js-client keeps the response of a refused request; our server explains itself
  // in plain text (the naming rule, a duplicate name, a request no longer open, ...).
  const response = error && error.originalResponse;
  const body = response && typeof response.getBody === "function" ? response.getBody() : "";
  if (body && body.length < 1000) return body;
  return (error && error.message) || "";
}

// The early verdict (deliveries/uploads/early.py): the server looks at a file's first
// bytes and says what they already show, in two headers of its tus answers.
function earlyVerdict(headerOf) {
  const check = headerOf("Portal-Early-Check");
  if (!check) return null;
  let findings = [];
  const told = headerOf("Portal-Early-Findings");
  if (told) {
    try {
      findings = JSON.parse(decodeURIComponent(told));
    } catch (error) {
      findings = [];
    }
  }
  return { done: check === "done", findings };
}

function setup(root) {
  if (root.dataset.ready) return;
  root.dataset.ready = "1";
  const text = root.dataset;
  texts = text;
  const pattern = new RegExp(text.pattern);
  const maxLength = Number(text.maxNameLength || 255);
  const list = root.querySelector("[data-upload-list]");
  const refusals = root.querySelector("[data-upload-refusals]");
  const rows = new Map();
  root.querySelector("[data-uploader-fallback]").hidden = true;

  function refuse(message) {
    const line = document.createElement("p");
    line.className = "field-error";
    line.textContent = message;
    refusals.appendChild(line);
  }

  const uppy = new Uppy({
    id: `uploader-${text.request}`,
    autoProceed: true,
    allowMultipleUploadBatches: true,
    meta: { request: text.request },
    // The naming rule, checked before any byte is sent; the server checks it again.
    onBeforeFileAdded(file) {
      const name = file.name || "";
      if (name.length > maxLength) {
        refuse(fill(text.textTooLong, { name }));
        return false;
      }
      if (!pattern.test(name) || /^\.+$/.test(name)) {
        refuse(fill(text.textBadName, { name }));
        return false;
      }
      return true;
    },
  });

  uppy.use(DragDrop, {
    target: root.querySelector("[data-drop-zone]"),
    locale: {
      strings: {
        dropHereOr: text.textDrop.replace("{browse}", "%{browse}"),
        browse: text.textBrowse,
      },
    },
  });
  uppy.use(Tus, {
    endpoint: text.endpoint,
    headers: () => ({ "X-CSRFToken": csrfToken() }),
    retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
    removeFingerprintOnSuccess: true,
    allowedMetaFields: ["request", "name", "replace"],
    limit: 3,
  });

  function button(label, action) {
    const element = document.createElement("button");
    element.type = "button";
    element.className = "button small";
    element.textContent = label;
    element.dataset.action = action;
    return element;
  }

  function addRow(file) {
    const item = document.createElement("li");
    item.className = "upload-row";
    item.dataset.state = "waiting";
    const name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", fill(text.textProgressLabel, { name: file.name }));
    const state = document.createElement("span");
    state.className = "upload-state";
    state.textContent = text.textWaiting;
    const detail = document.createElement("span");
    detail.className = "upload-detail muted";
    const actions = document.createElement("span");
    actions.className = "upload-actions";
    const pause = button(text.textPause, "pause");
    const retry = button(text.textRetry, "retry");
    const cancel = button(text.textCancel, "cancel");
    const replace = button(text.textReplace, "replace");
    retry.hidden = true;
    replace.hidden = true;
    actions.append(pause, retry, replace, cancel);
    item.append(name, bar, state, detail, actions);
    list.appendChild(item);
    const early = document.createElement("div");
    early.className = "upload-early";
    early.setAttribute("role", "status");
    early.hidden = true;
    item.append(early);
    const row = { item, bar, state, detail, pause, retry, replace, cancel, early, samples: [] };
    rows.set(file.id, row);
    // Every tus answer for this file may carry the early verdict (a chunked upload's
    // PATCHes, creation-with-upload); per-file tus options reach only this file.
    uppy.setFileState(file.id, {
      tus: {
        ...(uppy.getFile(file.id).tus || {}),
        onAfterResponse(request, response) {
          showEarly(row, earlyVerdict((name) => response.getHeader(name)));
        },
      },
    });

    pause.addEventListener("click", () => {
      const paused = uppy.pauseResume(file.id);
      pause.textContent = paused ? text.textResume : text.textPause;
      setState(row, paused ? "paused" : "uploading");
      row.samples = [];
      // A paused upload has no rate and no time left: only how far it came.
      showStopped(row);
    });
    retry.addEventListener("click", () => {
      retry.hidden = true;
      setState(row, "uploading");
      row.detail.textContent = "";
      uppy.retryUpload(file.id);
    });
    // The name is delivered already and this person may remove files: the new file
    // takes the old one's place (the server removes it when the last byte arrives).
    replace.addEventListener("click", () => {
      replace.hidden = true;
      setState(row, "uploading");
      row.detail.textContent = text.textReplacing;
      uppy.setFileMeta(file.id, { replace: "1" });
      uppy.retryUpload(file.id);
    });
    cancel.addEventListener("click", () => {
      // Removing a file that is uploading terminates its upload on the server.
      uppy.removeFile(file.id);
    });
  }

  function showEarly(row, verdict) {
    if (!verdict || row.earlyDone) return;
    row.earlyDone = verdict.done;
    if (!verdict.findings.length) return;
    row.early.replaceChildren();
    const intro = document.createElement("p");
    intro.className = "upload-early-intro";
    intro.textContent = text.textEarly;
    row.early.append(intro);
    verdict.findings.forEach((finding) => {
      const line = document.createElement("p");
      line.className = "upload-early-finding";
      line.title = finding.message || "";
      const badge = document.createElement("span");
      badge.className = `sev sev-${finding.severity}`;
      badge.textContent = finding.label;
      const code = document.createElement("a");
      code.className = "code";
      code.href = finding.url;
      // In a new tab: leaving this page would stop its uploads.
      code.target = "_blank";
      code.rel = "noopener";
      const codeText = document.createElement("code");
      codeText.textContent = finding.code;
      code.append(codeText);
      line.append(badge, ` ${finding.text} `, code);
      row.early.append(line);
    });
    row.early.hidden = false;
    row.item.dataset.early = verdict.findings.some((f) => f.severity === "blocker")
      ? "blocker"
      : "noted";
  }

  async function askEarly(file) {
    // HEAD answers at once while the PATCH still runs: the early look happened inside
    // it, as soon as the first bytes were on the server's disk.
    const row = rows.get(file.id);
    if (!row || row.earlyPolling || row.earlyDone) return;
    row.earlyPolling = true;
    for (let attempt = 0; attempt < EARLY_POLLS; attempt += 1) {
      const current = uppy.getFile(file.id);
      const url = current && current.tus && current.tus.uploadUrl;
      const finished = ["delivered", "failed"].includes(row.item.dataset.state);
      if (!rows.has(file.id) || row.earlyDone || finished) break;
      if (url) {
        try {
          const response = await fetch(url, {
            method: "HEAD",
            headers: { "Tus-Resumable": "1.0.0" },
            credentials: "same-origin",
            cache: "no-store",
          });
          if (response.ok) showEarly(row, earlyVerdict((name) => response.headers.get(name)));
        } catch (error) {
          // Offline for a moment: the upload's own retries handle that; ask again.
        }
        if (row.earlyDone) break;
      }
      await new Promise((resolve) => setTimeout(resolve, EARLY_POLL_MS));
    }
    row.earlyPolling = false;
  }

  function setState(row, state) {
    row.item.dataset.state = state;
    row.state.textContent = {
      waiting: text.textWaiting,
      uploading: text.textUploading,
      paused: text.textPaused,
      delivered: text.textDelivered,
      failed: text.textFailed,
    }[state];
  }

  function showStopped(row) {
    if (row.total === undefined) {
      row.detail.textContent = "";
      return;
    }
    row.detail.textContent = fill(text.textProgressStopped, {
      done: formatBytes(row.done),
      total: formatBytes(row.total),
    });
  }

  function showProgress(file, progress) {
    const row = rows.get(file.id);
    if (!row) return;
    const done = progress.bytesUploaded || 0;
    const total = progress.bytesTotal || file.size || 0;
    row.done = done;
    row.total = total;
    row.bar.value = total ? Math.floor((done / total) * 100) : 100;
    // Progress still in flight when the partner paused: no rate for a paused upload.
    if (row.item.dataset.state === "paused") {
      showStopped(row);
      return;
    }
    setState(row, "uploading");
    // Speed over the last few seconds, so that a resumed upload's speed is its own.
    const now = performance.now();
    row.samples.push([now, done]);
    while (row.samples.length > 2 && now - row.samples[0][0] > 5000) row.samples.shift();
    const [firstTime, firstBytes] = row.samples[0];
    const elapsed = (now - firstTime) / 1000;
    if (now - firstTime < MIN_SAMPLE_MS) return;
    const speed = (done - firstBytes) / elapsed;
    row.detail.textContent = fill(text.textProgress, {
      done: formatBytes(done),
      total: formatBytes(total),
      speed: formatBytes(speed),
      left: speed > 0 ? formatDuration((total - done) / speed) : "–",
    });
  }

  uppy.on("file-added", addRow);
  uppy.on("file-removed", (file) => {
    const row = rows.get(file.id);
    if (row && row.item.dataset.state !== "delivered") row.item.remove();
    rows.delete(file.id);
  });
  const earlyLook = Number(text.earlyLook || 65536);
  uppy.on("upload-progress", (file, progress) => {
    if (!file) return;
    showProgress(file, progress);
    const total = progress.bytesTotal || file.size || 0;
    if ((progress.bytesUploaded || 0) >= Math.min(earlyLook, total)) askEarly(file);
  });
  uppy.on("upload-success", (file) => {
    const row = rows.get(file.id);
    if (!row) return;
    row.bar.value = 100;
    setState(row, "delivered");
    row.detail.textContent = formatBytes(file.size || 0);
    row.pause.hidden = true;
    row.retry.hidden = true;
    row.replace.hidden = true;
    row.cancel.hidden = true;
    // Delivered: the note no longer speaks of an upload going on.
    const intro = row.early.querySelector(".upload-early-intro");
    if (intro) intro.textContent = text.textEarlyDelivered;
    if (file.meta && file.meta.replace === "1") {
      // A retried upload ends no batch: show the file list with the new file now.
      window.htmx.ajax("GET", window.location.pathname, {
        source: root,
        target: "#request-main",
        swap: "outerHTML",
      });
    }
  });
  uppy.on("upload-error", (file, error) => {
    const row = file && rows.get(file.id);
    if (!row) return;
    setState(row, "failed");
    row.detail.textContent = serverMessage(error);
    const final = isFinalRefusal(error);
    row.retry.hidden = final;
    row.pause.hidden = final;
    const response = error && error.originalResponse;
    row.replace.hidden = !(response && response.getHeader("Portal-Can-Replace") === "1");
  });
  uppy.on("restriction-failed", (file, error) => {
    if (file && error && /duplicate/i.test(error.message || "")) {
      refuse(fill(text.textDuplicate, { name: file.name }));
    }
  });
  uppy.on("is-offline", () => refuse(text.textOffline));
  uppy.on("complete", (result) => {
    const delivered = result.successful || [];
    if (!delivered.length) return;
    // Delivered files leave Uppy's list (so that a removed file can be delivered
    // again); their rows stay, marked Delivered.
    delivered.forEach((file) => uppy.removeFile(file.id));
    const htmx = window.htmx;
    const options = { source: root, target: "#request-main", swap: "outerHTML" };
    if ((result.failed || []).length === 0) {
      // The batch is complete: a request that submits automatically submits now.
      htmx.ajax("POST", text.completeUrl, options);
    } else {
      htmx.ajax("GET", window.location.pathname, options);
    }
  });
}

function setupAll() {
  document.querySelectorAll("[data-uploader]").forEach(setup);
}

document.addEventListener("htmx:load", setupAll);
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setupAll);
else setupAll();

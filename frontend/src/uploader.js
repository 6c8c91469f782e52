// The Details Page's uploader: Uppy's drop zone and file picker, tus uploads that
// resume after a dropped connection, and one row per file with its progress bar,
// speed, time left, pause/resume, retry and cancel. Every text comes translated from
// the template's data-text-* attributes. Built into static/js/uploader.bundle.js by
// `npm run build` (see frontend/build.mjs); runs under script-src 'self'.
import Uppy from "@uppy/core";
import DragDrop from "@uppy/drag-drop";
import Tus from "@uppy/tus";

import { BATCH_FROM, Batch } from "./batch.js";
import {
  askFirst,
  csrfToken,
  earlyLooks,
  earlyVerdict,
  fill,
  formatBytes as formatBytesIn,
  formatDuration,
  isFinalRefusal,
  nameRefusal,
  partsFor,
  serverExtensions,
  serverMessage,
} from "./text.js";
import { uploadRow } from "./row.js";

const MIN_SAMPLE_MS = 500;
// While one long PATCH carries a file, its answer (and the early verdict in it) comes
// only at the end: the row asks HEAD instead, this often, this many times at most.
const EARLY_POLL_MS = 1000;
const EARLY_POLLS = 60;

let texts = {};
const formatBytes = (bytes) => formatBytesIn(texts, bytes);

// Uppy's drop zone, but what it takes goes through `take`: a big batch (a folder of
// frames) becomes one aggregate row (batch.js) instead of thousands of Uppy files.
class DropZone extends DragDrop {
  addFiles = (files) => this.opts.take(files);
}

function setup(root) {
  if (root.dataset.ready) return;
  root.dataset.ready = "1";
  const text = root.dataset;
  texts = text;
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
      const refusal = nameRefusal(text, file.name || "");
      if (refusal) refuse(refusal);
      return !refusal;
    },
  });

  function refresh(complete) {
    const options = { source: root, target: "#request-main", swap: "outerHTML" };
    // The batch is complete: a request that submits automatically submits now.
    if (complete) window.htmx.ajax("POST", text.completeUrl, options);
    else window.htmx.ajax("GET", window.location.pathname, options);
  }

  // Every way in (a drop, the file picker, the folder picker) ends here.
  function take(files) {
    if (files.length > BATCH_FROM) {
      new Batch({
        texts: text,
        list,
        endpoint: text.endpoint,
        request: text.request,
        files,
        onFinished: refresh,
      });
      return;
    }
    try {
      uppy.addFiles(
        files.map((file) => ({
          source: "DragDrop",
          name: file.name,
          type: file.type,
          data: file,
          meta: { relativePath: file.relativePath || file.webkitRelativePath || null },
        })),
      );
    } catch (error) {
      uppy.log(error);
    }
  }

  uppy.use(DropZone, {
    target: root.querySelector("[data-drop-zone]"),
    take,
    locale: {
      strings: {
        dropHereOr: text.textDrop.replace("{browse}", "%{browse}"),
        browse: text.textBrowse,
      },
    },
  });
  const folderInput = root.querySelector("[data-folder-input]");
  const folderButton = root.querySelector("[data-folder-button]");
  if (folderInput && folderButton) {
    folderButton.hidden = false;
    folderButton.addEventListener("click", () => folderInput.click());
    folderInput.addEventListener("change", () => {
      const files = Array.from(folderInput.files || []);
      // Cleared, so that choosing the same folder again (after a reload, say) is seen.
      folderInput.value = "";
      if (files.length) take(files);
    });
  }
  uppy.use(Tus, {
    endpoint: text.endpoint,
    headers: () => ({ "X-CSRFToken": csrfToken() }),
    retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
    removeFingerprintOnSuccess: true,
    // `replace` joins a file's metadata only once its Replace is clicked (below):
    // Uppy sends every listed field, an unset one as the string "undefined".
    allowedMetaFields: ["request", "name"],
    limit: 3,
  });

  // Before each upload (a Replace too): whether a big file travels in parts, which
  // the server must announce (tus concatenation) and its name must be free for; the
  // same question brings what the file's first bytes show, which its parts can't.
  uppy.addPreProcessor(async (fileIDs) => {
    const extensions = await serverExtensions(text.endpoint);
    await Promise.all(
      fileIDs.map(async (id) => {
        const file = uppy.getFile(id);
        if (!file) return;
        let parts = partsFor(file.size || 0, extensions);
        if (parts > 1) {
          const metadata = { request: text.request, filename: file.name };
          if (file.meta.replace === "1") metadata.replace = "1";
          const asked = await askFirst(text.endpoint, metadata, file.data, earlyLooks(text));
          if (!asked.free) parts = 1;
          else if (rows.has(id)) showEarly(rows.get(id), asked.verdict);
        }
        const current = uppy.getFile(id);
        if (current) {
          uppy.setFileState(id, { tus: { ...(current.tus || {}), parallelUploads: parts } });
        }
      }),
    );
  });

  function addRow(file) {
    const row = uploadRow(text, file.name, {
      pause: text.textPause,
      retry: text.textRetry,
      replace: text.textReplace,
      cancel: text.textCancel,
    });
    const { item, state, pause, retry, replace, cancel } = row;
    item.dataset.state = "waiting";
    state.textContent = text.textWaiting;
    retry.hidden = true;
    replace.hidden = true;
    list.appendChild(item);
    const early = document.createElement("div");
    early.className = "upload-early";
    early.setAttribute("role", "status");
    early.hidden = true;
    item.append(early);
    Object.assign(row, { early, samples: [] });
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
      const current = uppy.getFile(file.id);
      uppy.setFileState(file.id, {
        tus: { ...(current.tus || {}), allowedMetaFields: ["request", "name", "replace"] },
      });
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
  const earlyLook = earlyLooks(text).first;
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
      refresh(false);
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
    refresh((result.failed || []).length === 0);
  });
}

function setupAll() {
  document.querySelectorAll("[data-uploader]").forEach(setup);
}

document.addEventListener("htmx:load", setupAll);
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setupAll);
else setupAll();

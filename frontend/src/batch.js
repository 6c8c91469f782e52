// A big batch (a folder of frames, thousands of files) as ONE row of the drop zone:
// files done of total, bytes, rate, time left, the files refused with their names,
// and Pause / Retry failed / Cancel for the whole batch. The files go straight to
// tus-js-client through one small queue, several at a time, without Uppy's per-file
// state: Uppy copies its whole file table on every change of any file, which for
// 10,000 files holds the page's main thread for seconds.
//
// Resuming: each upload's address is kept in localStorage under a fingerprint of the
// request, the file's path in the folder, its size and its modification time, so
// dropping the same folder after a reload resumes every started file at the offset
// the server reports (HEAD); a file the request already holds is refused by its name
// before any byte is sent, and counts as delivered earlier, not as a failure.
import * as tus from "tus-js-client";

import {
  askFirst,
  csrfToken,
  earlyLooks,
  earlyVerdict,
  fill,
  formatBytes,
  formatCount,
  formatDuration,
  isFinalRefusal,
  nameBreaks,
  nameRefusal,
  partsFor,
  serverExtensions,
  serverMessage,
  statusOf,
} from "./text.js";
import { uploadRow } from "./row.js";

// More files than this in one drop or pick: one aggregate row instead of a row each.
export const BATCH_FROM = 20;
// Uploads in flight at once: enough to hide each small file's round trips, and under
// the browser's six connections to one host, so the page's own requests still pass.
const IN_FLIGHT = 4;
// A file this small rides along with its creation (creation-with-upload): one request
// a frame instead of two. Not once the server has said a name was delivered already:
// a batch dropped again would otherwise send every delivered frame's bytes for nothing.
const SEND_WITH_CREATION = 1024 * 1024;
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000];
const RENDER_MS = 250;
// The longest a task spends reading sizes before it lets the page breathe.
const SLICE_MS = 20;
const RATE_WINDOW_MS = 5000;
const NAMES_LISTED = 100;
// A problem shared by several files is told once, with this many of their names.
const EXAMPLES = 3;
// What file managers leave in folders; never part of a delivery.
const SYSTEM_FILES = /^(\..*|Thumbs\.db|desktop\.ini)$/i;

function pathOf(file) {
  return (file.relativePath || file.webkitRelativePath || "").replace(/^\/+/, "");
}

// fill() for a template whose values may be nodes (or lists of them): what to append.
function fillNodes(template, values) {
  return template
    .split(/(\{\w+\})/)
    .flatMap((part) => {
      const key = part.slice(1, -1);
      return /^\{\w+\}$/.test(part) && key in values ? values[key] : part;
    })
    .filter((part) => part !== "");
}

// The `count` entries first by path (a sequence's first frames), without sorting all.
function firstByPath(entries, count) {
  const first = [];
  entries.forEach((entry) => {
    if (first.length === count && entry.path >= first[count - 1].path) return;
    let at = first.length;
    while (at > 0 && first[at - 1].path > entry.path) at -= 1;
    first.splice(at, 0, entry);
    if (first.length > count) first.pop();
  });
  return first;
}

function plural(texts, key, count, values = {}) {
  return fill(count === 1 ? texts[`${key}One`] : texts[`${key}Many`], {
    count: formatCount(count),
    ...values,
  });
}

// One queue for the page: whatever was dropped, at most IN_FLIGHT uploads run.
class Pool {
  constructor() {
    this.batches = [];
    this.running = 0;
  }

  add(batch) {
    this.batches.push(batch);
    this.pump();
  }

  pump() {
    while (this.running < IN_FLIGHT) {
      const batch = this.batches.find((each) => !each.paused && each.hasWaiting());
      if (!batch) return;
      const entry = batch.next();
      this.running += 1;
      batch.send(entry).finally(() => {
        this.running -= 1;
        this.pump();
      });
    }
  }
}

const pool = new Pool();

export class Batch {
  // `files`: File objects, from a drop (relativePath) or a folder pick
  // (webkitRelativePath). `onFinished(clean)` runs when nothing is left to send.
  constructor({ texts, list, endpoint, request, files, onFinished }) {
    this.texts = texts;
    this.endpoint = endpoint;
    this.request = request;
    this.onFinished = onFinished;
    this.entries = [];
    this.queue = [];
    this.head = 0;
    this.sending = new Set();
    this.failed = [];
    this.early = [];
    this.left = []; // system files left out
    this.skipped = 0;
    this.delivered = 0;
    this.bytesTotal = 0;
    this.bytesFinished = 0; // of delivered and skipped files
    this.bytesSent = 0; // by this page, of delivered files
    this.samples = [];
    this.paused = false;
    this.cancelled = false;
    this.sawTaken = false;
    this.sizing = true;
    // Names first (a pure JavaScript pass); sizes after, a slice a task: the first
    // read of a picked file's size asks the disk, which costs a millisecond a file
    // and, for a folder of 10,000 frames, would hold the page for seconds.
    const seen = new Map();
    const unsized = [];
    files.forEach((file) => {
      const path = pathOf(file);
      const name = file.name || "";
      if (path.includes("/") && SYSTEM_FILES.test(name)) {
        this.left.push(path);
        return;
      }
      const entry = { file, name, path: path || name, size: 0, sent: 0 };
      this.entries.push(entry);
      const refusal = nameRefusal(texts, name);
      const twin = seen.get(name);
      if (refusal) {
        // Said without the name, so that a folder of frames named alike shares it.
        entry.problem = {
          tooLong: texts.textBatchTooLong,
          badName: texts.textBatchBadName,
        }[nameBreaks(texts, name)];
        this.fail(entry, refusal, false);
      }
      else if (twin) {
        this.fail(entry, fill(texts.textBatchTwice, { name, first: twin, second: entry.path }), false);
      } else {
        seen.set(name, entry.path);
        unsized.push(entry);
      }
    });
    const folder = (this.entries[0] || { path: "" }).path.split("/");
    this.title =
      folder.length > 1
        ? fill(texts.textBatchName, { name: folder[0], count: formatCount(this.entries.length) })
        : fill(texts.textBatchNameless, { count: formatCount(this.entries.length) });
    this.buildRow(list);
    this.render();
    pool.add(this);
    this.size(unsized);
  }

  async size(unsized) {
    let next = 0;
    while (next < unsized.length && !this.cancelled) {
      const started = performance.now();
      while (next < unsized.length && performance.now() - started < SLICE_MS) {
        const entry = unsized[next];
        entry.size = entry.file.size;
        this.bytesTotal += entry.size;
        this.queue.push(entry);
        next += 1;
      }
      pool.pump();
      this.changed();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    this.sizing = false;
    this.checkFinished();
  }

  hasWaiting() {
    return this.head < this.queue.length && !this.cancelled;
  }

  next() {
    const entry = this.queue[this.head];
    this.head += 1;
    return entry;
  }

  requeue(entry) {
    // Back to the front: a paused file resumes first.
    this.head -= 1;
    this.queue[this.head] = entry;
  }

  async send(entry) {
    this.sending.add(entry);
    entry.stopped = false;
    entry.resolve = null;
    const extensions = await serverExtensions(this.endpoint);
    const metadata = { request: this.request, filename: entry.name };
    let parts = partsFor(entry.size, extensions);
    if (parts > 1) {
      const asked = await askFirst(this.endpoint, metadata, entry.file, earlyLooks(this.texts));
      if (!asked.free) parts = 1;
      else this.noteEarly(entry, asked.verdict);
    }
    // Paused or cancelled meanwhile: pause() put it back in the queue already.
    if (entry.stopped) return;
    await new Promise((resolve) => {
      const upload = new tus.Upload(entry.file, {
        endpoint: this.endpoint,
        retryDelays: RETRY_DELAYS,
        metadata,
        parallelUploads: parts,
        headers: { "X-CSRFToken": csrfToken() },
        fingerprint: () =>
          Promise.resolve(
            ["portal", this.request, entry.path, entry.size, entry.file.lastModified].join(":"),
          ),
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: true,
        uploadDataDuringCreation: parts === 1 && entry.size <= SEND_WITH_CREATION && !this.sawTaken,
        onProgress: (sent) => {
          entry.sent = sent;
          this.changed();
        },
        onAfterResponse: (request, response) => {
          this.noteEarly(entry, earlyVerdict((header) => response.getHeader(header)));
        },
        onSuccess: () => {
          this.finish(entry, "delivered");
          resolve();
        },
        onError: (error) => {
          if (entry.stopped) {
            resolve();
            return;
          }
          if (this.isTaken(error, entry)) {
            this.sawTaken = true;
            this.finish(entry, "skipped");
          } else {
            this.sending.delete(entry);
            entry.sent = 0;
            this.fail(entry, serverMessage(error), !isFinalRefusal(error));
          }
          resolve();
        },
      });
      entry.upload = upload;
      entry.resolve = resolve;
      upload
        .findPreviousUploads()
        .then((previous) => {
          if (entry.stopped) return;
          if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
          upload.start();
        })
        .catch(() => upload.start());
    });
    this.checkFinished();
  }

  noteEarly(entry, verdict) {
    if (verdict && verdict.findings.some((finding) => finding.severity === "blocker")) {
      if (!entry.early) this.early.push(entry);
      entry.early = verdict.findings;
      this.changed();
    }
  }

  isTaken(error, entry) {
    // The server's refusal of a name the request holds already (deliveries/uploads/
    // names.py): it offers Replace to whoever may remove files, and otherwise says so
    // in the words the drop zone carries in data-text-taken.
    if (statusOf(error) !== 400) return false;
    const response = error.originalResponse;
    if (response.getHeader("Portal-Can-Replace") === "1") return true;
    return serverMessage(error).trim() === fill(this.texts.textTaken, { name: entry.name });
  }

  finish(entry, how) {
    this.sending.delete(entry);
    entry.upload = null;
    this.bytesFinished += entry.size;
    if (how === "delivered") {
      this.delivered += 1;
      this.bytesSent += entry.size;
    } else {
      this.skipped += 1;
    }
    this.changed();
  }

  fail(entry, message, retryable) {
    entry.message = message;
    entry.retryable = retryable;
    this.failed.push(entry);
    this.changed();
  }

  stop(entry, terminate) {
    entry.stopped = true;
    this.sending.delete(entry);
    entry.sent = 0;
    if (entry.upload) entry.upload.abort(terminate).catch(() => {});
    entry.upload = null;
    if (entry.resolve) entry.resolve();
  }

  pause() {
    this.paused = !this.paused;
    if (this.paused) {
      // Each file's address stays kept: Resume (or a reload) continues at its offset.
      [...this.sending].forEach((entry) => {
        this.stop(entry, false);
        this.requeue(entry);
      });
    }
    this.render();
    pool.pump();
  }

  cancel() {
    this.cancelled = true;
    this.paused = false;
    // Terminated on the server: their staged bytes go, their names are free again.
    [...this.sending].forEach((entry) => this.stop(entry, true));
    this.render();
    this.checkFinished();
  }

  retryFailed() {
    const again = this.failed.filter((entry) => entry.retryable);
    this.failed = this.failed.filter((entry) => !entry.retryable);
    again.forEach((entry) => this.queue.push(entry));
    this.finishedTold = false;
    this.render();
    pool.pump();
  }

  checkFinished() {
    const waiting = this.hasWaiting();
    if (this.sending.size || this.sizing || (waiting && !this.cancelled) || this.finishedTold) {
      return;
    }
    this.finishedTold = true;
    this.render();
    this.onFinished(!this.cancelled && this.failed.length === 0 && this.delivered > 0);
  }

  changed() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.render();
    }, RENDER_MS);
  }

  buildRow(list) {
    const texts = this.texts;
    const row = uploadRow(texts, this.title, {
      pause: texts.textPause,
      retry: texts.textRetryFailed,
      cancel: texts.textCancel,
    });
    row.item.classList.add("upload-batch");
    row.item.dataset.batch = "";
    row.detail.setAttribute("aria-live", "off");
    row.pause.addEventListener("click", () => this.pause());
    row.retry.addEventListener("click", () => this.retryFailed());
    row.cancel.addEventListener("click", () => this.cancel());
    row.notes = document.createElement("div");
    row.notes.className = "upload-batch-notes";
    row.item.append(row.notes);
    list.appendChild(row.item);
    this.row = row;
  }

  state() {
    if (this.finishedTold || (!this.sending.size && !this.sizing && !this.hasWaiting())) {
      if (this.cancelled) return "cancelled";
      return this.failed.length ? "failed" : "delivered";
    }
    return this.paused ? "paused" : "uploading";
  }

  render() {
    const texts = this.texts;
    const row = this.row;
    let inFlight = 0;
    this.sending.forEach((entry) => {
      inFlight += entry.sent;
    });
    const bytesDone = this.bytesFinished + inFlight;
    const finished = this.delivered + this.skipped;
    const total = this.entries.length;
    const state = this.state();
    row.item.dataset.state = state;
    row.state.textContent = {
      uploading: texts.textUploading,
      paused: texts.textPaused,
      delivered: texts.textDelivered,
      // Some files failed: "Partly delivered" when the others arrived, not a "Failed"
      // that reads as if the whole folder had.
      failed: this.delivered ? texts.textPartlyDelivered : texts.textFailed,
      cancelled: texts.textCancelled,
    }[state];
    row.bar.value = this.bytesTotal ? Math.floor((bytesDone / this.bytesTotal) * 100) : 100;
    if (state === "delivered") row.bar.value = 100;
    const figures = {
      done: formatCount(finished),
      total: formatCount(total),
      bytesDone: formatBytes(texts, bytesDone),
      bytesTotal: formatBytes(texts, this.bytesTotal),
    };
    // Rates over the last few seconds, so that a resumed batch's speed is its own.
    const now = performance.now();
    this.samples.push([now, this.bytesSent + inFlight, finished]);
    while (this.samples.length > 2 && now - this.samples[0][0] > RATE_WINDOW_MS) {
      this.samples.shift();
    }
    const [then, bytesThen, filesThen] = this.samples[0];
    const seconds = (now - then) / 1000;
    if (state === "uploading" && seconds >= 0.5) {
      const speed = (this.bytesSent + inFlight - bytesThen) / seconds;
      const rate = (finished - filesThen) / seconds;
      const left = Math.max(
        speed > 0 ? (this.bytesTotal - bytesDone) / speed : Infinity,
        rate > 0 ? (total - finished - this.failed.length) / rate : Infinity,
      );
      row.detail.textContent = fill(texts.textBatchProgress, {
        ...figures,
        speed: formatBytes(texts, speed),
        rate: rate.toLocaleString(document.documentElement.lang || undefined, {
          maximumFractionDigits: 1,
        }),
        left: formatDuration(left),
      });
    } else {
      row.detail.textContent = fill(texts.textBatchStopped, figures);
    }
    const over = ["delivered", "failed", "cancelled"].includes(state);
    row.pause.textContent = this.paused ? texts.textResume : texts.textPause;
    row.pause.hidden = over;
    row.cancel.hidden = over;
    row.retry.hidden = !this.failed.some((entry) => entry.retryable) || !over;
    this.renderNotes();
  }

  renderNotes() {
    // Rebuilt only when what it says changed: the failures list can be long.
    const key = [this.skipped, this.failed.length, this.early.length, this.left.length].join();
    if (key === this.notesKey) return;
    this.notesKey = key;
    const texts = this.texts;
    const notes = [];
    if (this.skipped) notes.push(this.line("upload-batch-skipped", plural(texts, "textBatchSkipped", this.skipped)));
    if (this.left.length) {
      notes.push(
        this.line(
          "upload-batch-left",
          plural(texts, "textBatchLeft", this.left.length, { names: this.left.slice(0, 5).join(", ") }),
        ),
      );
    }
    if (this.failed.length) {
      notes.push(this.line("upload-batch-failed field-error", plural(texts, "textBatchFailed", this.failed.length)));
      notes.push(this.problems(this.failed, (entry) => [entry.problem || entry.message, entry.message]));
    }
    if (this.early.length) {
      notes.push(this.line("upload-batch-early", plural(texts, "textBatchEarly", this.early.length)));
      notes.push(
        this.problems(this.early, (entry) => {
          const blockers = entry.early
            .filter((finding) => finding.severity === "blocker")
            .map((finding) => `${finding.label}: ${finding.text}`)
            .join(" ");
          return [blockers, blockers];
        }),
      );
    }
    this.row.notes.replaceChildren(...notes);
  }

  line(className, content) {
    const line = document.createElement("p");
    line.className = className;
    line.textContent = content;
    return line;
  }

  // One line a distinct problem: a file's own line (its path, then why) when it is
  // alone with it, else "312 files: why — a, b, c, …". `why(entry)` gives the problem
  // as files share it and as this file alone is told it.
  problems(entries, why) {
    const groups = new Map();
    entries.forEach((entry) => {
      const [shared, own] = why(entry);
      const group = groups.get(shared) || { shared, own, entries: [] };
      group.entries.push(entry);
      groups.set(shared, group);
    });
    const code = (entry) => {
      const name = document.createElement("code");
      name.textContent = entry.path;
      return name;
    };
    const list = document.createElement("ul");
    list.className = "upload-batch-names";
    const shown = [...groups.values()].slice(0, NAMES_LISTED);
    shown.forEach((group) => {
      const item = document.createElement("li");
      if (group.entries.length === 1) {
        item.append(...fillNodes(this.texts.textBatchOne, { name: [code(group.entries[0])], problem: group.own }));
      } else {
        const names = [];
        firstByPath(group.entries, EXAMPLES).forEach((entry, index) => {
          if (index) names.push(", ");
          names.push(code(entry));
        });
        if (group.entries.length > EXAMPLES) names.push(", …");
        item.append(
          ...fillNodes(this.texts.textBatchGroup, {
            count: formatCount(group.entries.length),
            problem: group.shared,
            names,
          }),
        );
      }
      list.append(item);
    });
    const untold = entries.length - shown.reduce((sum, group) => sum + group.entries.length, 0);
    if (untold > 0) {
      const more = document.createElement("li");
      more.textContent = fill(this.texts.textBatchMore, { count: formatCount(untold) });
      list.append(more);
    }
    return list;
  }
}

// Words and figures as the Details Page writes them, shared by the per-file rows
// (uploader.js) and the aggregate row of a big batch (batch.js). Every text comes
// translated from the drop zone's data-text-* attributes (see _uploader.html).

export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (match, key) => (key in values ? values[key] : match));
}

// Sizes as the file list writes them (Django's filesizeformat): powers of 1024
// labelled KB, MB, GB, TB, one decimal in the page's language; bytes below 1 KB.
export function formatBytes(texts, bytes) {
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

export function formatCount(count) {
  return count.toLocaleString(document.documentElement.lang || undefined);
}

export function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return "–";
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  const two = (n) => String(n).padStart(2, "0");
  return hours ? `${hours}:${two(minutes)}:${two(secs)}` : `${minutes}:${two(secs)}`;
}

export function csrfToken() {
  // The token is on <body hx-headers>, where htmx finds it for every other action.
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch (error) {
    return "";
  }
}

export function statusOf(error) {
  const response = error && error.originalResponse;
  return response && typeof response.getStatus === "function" ? response.getStatus() : 0;
}

export function isFinalRefusal(error) {
  // A 4xx other than a conflict, a lock or a rate limit won't change on retry: a
  // refused name, a request no longer open, a file too large.
  const status = statusOf(error);
  return status >= 400 && status < 500 && ![409, 423, 429].includes(status);
}

export function serverMessage(error) {
  // tus-js-client keeps the response of a refused request; our server explains itself
  // in plain text (the naming rule, a duplicate name, a request no longer open, ...).
  const response = error && error.originalResponse;
  const body = response && typeof response.getBody === "function" ? response.getBody() : "";
  if (body && body.length < 1000) return body;
  return (error && error.message) || "";
}

// The early verdict (deliveries/uploads/early.py): the server looks at a file's first
// bytes and says what they already show, in two headers of its tus answers.
export function earlyVerdict(headerOf) {
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

// The naming rule, checked before any byte is sent; the server checks it again. The
// pattern is compiled once: a folder may hold 10,000 names.
const patterns = new Map();
// Which part of the rule `name` breaks: "tooLong", "badName", or "" for none.
export function nameBreaks(texts, name) {
  const maxLength = Number(texts.maxNameLength || 255);
  if (name.length > maxLength) return "tooLong";
  if (!patterns.has(texts.pattern)) patterns.set(texts.pattern, new RegExp(texts.pattern));
  if (!patterns.get(texts.pattern).test(name) || /^\.+$/.test(name)) return "badName";
  return "";
}

export function nameRefusal(texts, name) {
  const broken = nameBreaks(texts, name);
  if (broken === "tooLong") return fill(texts.textTooLong, { name });
  if (broken === "badName") return fill(texts.textBadName, { name });
  return "";
}

// Whether the tus server announces an extension in its OPTIONS answer (asked once a
// page). The concatenation extension lets one big file travel over several
// connections (tus-js-client's parallelUploads); without it, one connection a file.
const announced = new Map();
export function serverExtensions(endpoint) {
  if (!announced.has(endpoint)) {
    announced.set(
      endpoint,
      fetch(endpoint, {
        method: "OPTIONS",
        headers: { "Tus-Resumable": "1.0.0" },
        credentials: "same-origin",
      })
        .then((response) =>
          (response.headers.get("Tus-Extension") || "")
            .split(",")
            .map((name) => name.trim())
            .filter(Boolean),
        )
        .catch(() => []),
    );
  }
  return announced.get(endpoint);
}

// From this size a file travels in several parts at once, when the server can join
// them (tus concatenation): one connection's window no longer bounds its speed.
export const PARALLEL_FROM = 64 * 1024 * 1024;
export const PARALLEL_PARTS = 3;

export function partsFor(size, extensions) {
  return size >= PARALLEL_FROM && extensions.includes("concatenation") ? PARALLEL_PARTS : 1;
}

// How many first bytes the early look reads (deliveries/uploads/early.py's FIRST_LOOK
// and LAST_LOOK), from the drop zone's data-early-look and data-early-last-look.
export function earlyLooks(texts) {
  return { first: Number(texts.earlyLook || 65536), last: Number(texts.earlyLastLook || 4194304) };
}

// Parts carry no name, so the server checks a file's name, and looks at its first
// bytes (the early verdict), only when the final upload names it, after every byte.
// Before sending a big file in parts, ask first: a creation of the whole file that
// carries its first bytes (`looks.first`; when those could not tell, a PATCH brings the
// rest of what the early look reads, `looks.last`), then its termination. Refused (a
// name delivered already, say), the file goes in one piece, whose creation then tells
// why before any byte. Returns whether the name is free, and the early verdict.
export async function askFirst(endpoint, metadata, file, looks) {
  const tusHeaders = { "Tus-Resumable": "1.0.0", "X-CSRFToken": csrfToken() };
  const bytes = "application/offset+octet-stream";
  // Never every byte: a question that completed the file would deliver it.
  const first = Math.min(file.size - 1, looks.first);
  const headers = {
    ...tusHeaders,
    "Upload-Length": String(file.size),
    "Upload-Metadata": Object.entries(metadata)
      .map(([key, value]) => `${key} ${btoa(unescape(encodeURIComponent(String(value))))}`)
      .join(","),
    "Content-Type": bytes,
  };
  let created;
  try {
    created = await fetch(endpoint, {
      method: "POST",
      headers,
      body: file.slice(0, first),
      credentials: "same-origin",
    });
  } catch (error) {
    return { free: false, verdict: null };
  }
  const location = created.headers.get("Location");
  if (created.status !== 201 || !location) return { free: false, verdict: null };
  // Created: the name is free. What follows is a courtesy; whatever fails, the
  // question's upload is terminated (left behind, the file's next creation by the
  // same person would discard it anyway: deliveries/uploads/names.py).
  const url = new URL(location, window.location.href);
  let verdict = earlyVerdict((name) => created.headers.get(name));
  try {
    const last = Math.min(file.size - 1, looks.last);
    if (verdict && !verdict.done && last > first) {
      const patched = await fetch(url, {
        method: "PATCH",
        headers: { ...tusHeaders, "Upload-Offset": String(first), "Content-Type": bytes },
        body: file.slice(first, last),
        credentials: "same-origin",
      });
      if (patched.ok) verdict = earlyVerdict((name) => patched.headers.get(name)) || verdict;
    }
  } catch (error) {
    // No verdict beyond the first answer's.
  } finally {
    await fetch(url, { method: "DELETE", headers: tusHeaders, credentials: "same-origin" }).catch(
      () => {},
    );
  }
  return { free: true, verdict };
}

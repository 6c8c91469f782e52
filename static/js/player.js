// The side panel's proxy player (templates/deliveries/_preview.html). Without this
// file the <video controls> plays and seeks by itself, and each finding's mark is a
// link that reloads the panel with the player started at the finding (#t=). Here:
// keys (Space, J/K/L, ←/→ a frame), the current timecode, and marks that seek in place.
// Event delegation on the document keeps it working across htmx swaps of the panel.
(function () {
  "use strict";

  function playerOf(element) {
    const figure = element && element.closest("[data-player]");
    return figure ? { figure: figure, video: figure.querySelector("video") } : null;
  }

  function fps(figure) {
    const rate = parseFloat(figure.dataset.fps);
    return rate > 0 ? rate : 25;
  }

  function pad(value) { return String(value).padStart(2, "0"); }

  // Non-drop-frame timecode at the nominal whole rate, as processing names frames.
  function timecode(seconds, rate) {
    const base = Math.max(1, Math.round(rate));
    const frame = Math.round(seconds * rate);
    const whole = Math.floor(frame / base);
    return pad(Math.floor(whole / 3600)) + ":" + pad(Math.floor(whole / 60) % 60) + ":" +
      pad(whole % 60) + ":" + pad(frame % base);
  }

  function showTime(figure, video) {
    const output = figure.querySelector("[data-timecode]");
    if (output) output.textContent = timecode(video.currentTime || 0, fps(figure));
  }

  function setUp(root) {
    (root || document).querySelectorAll("[data-player]").forEach(function (figure) {
      if (figure.dataset.ready) return;
      figure.dataset.ready = "1";
      const video = figure.querySelector("video");
      if (!video) return;
      figure.querySelectorAll("[data-timecode], [data-player-keys]").forEach(function (el) {
        el.hidden = false;
      });
      ["timeupdate", "seeked", "loadedmetadata"].forEach(function (name) {
        video.addEventListener(name, function () { showTime(figure, video); });
      });
      showTime(figure, video);
    });
  }

  function seek(video, figure, seconds) {
    video.pause();
    video.playbackRate = 1;
    video.currentTime = seconds;
    showTime(figure, video);
  }

  document.addEventListener("click", function (event) {
    const link = event.target.closest("[data-seek]");
    if (!link) return;
    const panel = link.closest("#side-panel");
    const player = playerOf(panel && panel.querySelector("[data-player]"));
    const media = player ? player.video : panel && panel.querySelector(".waveform audio");
    if (!media) return;
    event.preventDefault();
    seek(media, player ? player.figure : panel, parseFloat(link.dataset.seek));
    media.focus();
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const player = playerOf(event.target);
    if (!player || !player.video) return;
    // Keys typed into a form field of the panel are the field's.
    if (event.target.closest("input, textarea, select")) return;
    const video = player.video;
    const frame = 1 / fps(player.figure);
    switch (event.key) {
      case " ":
        event.preventDefault();
        if (video.paused) { video.playbackRate = 1; video.play(); } else video.pause();
        break;
      case "k":
      case "K":
        event.preventDefault();
        video.pause();
        break;
      case "l":
      case "L":
        event.preventDefault();
        if (video.paused) { video.playbackRate = 1; video.play(); }
        else video.playbackRate = Math.min(video.playbackRate * 2, 8);
        break;
      case "j":
      case "J":
        event.preventDefault();
        video.currentTime = Math.max(0, video.currentTime - 1);
        break;
      case "ArrowLeft":
        event.preventDefault();
        video.pause();
        video.currentTime = Math.max(0, video.currentTime - frame);
        break;
      case "ArrowRight":
        event.preventDefault();
        video.pause();
        video.currentTime = Math.min(video.duration || Infinity, video.currentTime + frame);
        break;
      default:
        return;
    }
    // Ours alone: Chromium's own controls also answer Space and the arrows on a
    // focused <video>, which would toggle twice or skip seconds.
    event.stopPropagation();
    showTime(player.figure, video);
  }, true);

  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:load", function (event) { setUp(event.target); });
})();

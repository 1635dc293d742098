// The scan page: camera (BarcodeDetector, or the vendored jsQR where the browser has none),
// typed codes and keyboard-wedge scanners all end in one place: send(code).
// Every scan goes to POST /api/v1/scans with an Idempotency-Key. Scans wait in
// localStorage until the server has answered, so a dropped connection loses nothing and a
// retry never issues twice.
(function () {
  "use strict";

  var root = document.getElementById("scanner");
  if (!root) return;

  // One queue per signed-in user: on a shared phone, one fitter's unsent scans wait for them
  // and are never sent under the next person's session.
  var QUEUE_KEY = "safehold.pendingScans." + root.getAttribute("data-user");
  var form = document.getElementById("scan-form");
  var input = document.getElementById("scan-code");
  var results = document.getElementById("scan-results");
  var status = document.getElementById("scan-status");
  var cameraButton = document.getElementById("scan-camera");
  var video = document.getElementById("scan-video");
  var pendingNote = document.getElementById("scan-pending");
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var seenThisVisit = {};
  var sending = false;
  var audio = null;

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // A scanned web address is a label only under this installation's label base (the
  // server says the same): any other site's address is refused here, never queued or sent.
  var labelBase = root.getAttribute("data-label-base");
  labelBase = labelBase ? labelBase.replace(/\/+$/, "") + "/" : null;

  function foreignAddress(code) {
    if (code.indexOf("/") < 0 && code.indexOf(":") < 0) return false;
    return !labelBase || code.toLowerCase().indexOf(labelBase.toLowerCase()) !== 0;
  }

  function normalise(code) {
    return code.toUpperCase().replace(/[\s-]/g, "");
  }

  function loadQueue() {
    try { return JSON.parse(window.localStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { return []; }
  }

  function saveQueue(queue) {
    window.localStorage.setItem(QUEUE_KEY, JSON.stringify(queue));
    var waiting = queue.length;
    pendingNote.hidden = waiting === 0;
    pendingNote.textContent = waiting === 1 ? "1 scan waiting to send" : waiting + " scans waiting to send";
  }

  function beep(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = ok ? 880 : 220;
      gain.gain.value = 0.2;
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + (ok ? 0.12 : 0.4));
    } catch (e) { /* sound is a bonus */ }
    if (navigator.vibrate) navigator.vibrate(ok ? 60 : [120, 80, 120]);
  }

  // "Not done: … does not need." stays one full stop when the code is read out after it.
  function sentence(text) {
    text = (text || "").trim();
    return /[.!?]$/.test(text) ? text : text + ".";
  }

  function show(kind, title, message, link) {
    var item = document.createElement("li");
    item.className = "scan-result scan-result--" + kind;
    var heading = document.createElement("strong");
    heading.textContent = title;
    var text = document.createElement("span");
    text.textContent = message;
    item.appendChild(heading);
    item.appendChild(text);
    if (link) {
      var anchor = document.createElement("a");
      anchor.href = link;
      anchor.textContent = "Open the item";
      item.appendChild(anchor);
    }
    results.insertBefore(item, results.firstChild);
    status.textContent = sentence(title) + " " + message;  // read out by the live region
    readyForNext();
    return item;
  }

  // The code field has the focus whenever the page waits for a scan, so that a keyboard-wedge
  // scanner's first code lands in it (on load, and after every result). While the camera runs
  // the field asks for no on-screen keyboard (inputmode="none"), which would cover the
  // picture: it keeps the focus, so a wedge scanner still types into it; tapping it brings
  // the keyboard back. A choice being made in another field (the condition) keeps its focus.
  var TYPED = input.getAttribute("inputmode") || "text";

  function readyForNext() {
    var active = document.activeElement;
    if (active && active !== input && /^(SELECT|TEXTAREA|INPUT)$/.test(active.tagName)) return;
    input.setAttribute("inputmode", stream ? "none" : TYPED);
    input.focus({ preventScroll: true });
  }

  input.addEventListener("click", function () {
    if (input.getAttribute("inputmode") !== "none") return;
    input.setAttribute("inputmode", TYPED);  // asked for: the keyboard, on this tap
    input.blur();
    input.focus();
  });

  function describe(body) {
    var item = body && body.item;
    return item ? (item.item_type || "") + " " + (item.code || "") : "";
  }

  function settleWaiting(entry) {
    var waiting = results.querySelector('[data-scan-key="' + entry.key + '"]');
    if (waiting) waiting.parentNode.removeChild(waiting);
  }

  // The page's list of what is still to hand over loses each unit as it goes.
  function crossOff(code) {
    var expected = code && document.querySelector('[data-expected-code="' + code + '"]');
    if (expected) expected.parentNode.removeChild(expected);
  }

  function describeActions(body) {
    return body.actions && body.actions.length ? " Can be: " + body.actions.join(", ").replace(/_/g, " ") + "." : "";
  }

  function handleAnswer(entry, response, body) {
    var error = (body && body.error) || {};
    // Not the scan's fault: signed out, or the page's token is stale. Keep it for later.
    if (response.status >= 500 || response.status === 401 || error.code === "csrf_failed") {
      status.textContent = response.status === 401 || error.code === "csrf_failed"
        ? "Sign in again (then reload this page) to send the waiting scans."
        : "The server had a problem. The scan is kept and will be sent again.";
      return false;
    }
    settleWaiting(entry);
    if (response.ok) {
      show("ok", body.message || "Done", describe(body) + describeActions(body), body.item_url);
      crossOff(body.swapped_for || (body.item && body.item.code));
      beep(true);
      root.dispatchEvent(new CustomEvent("scan:done", { detail: body }));
      return true;
    }
    show("refused", "Not done: " + (error.message || response.statusText), entry.payload.code);
    beep(false);
    delete seenThisVisit[normalise(entry.payload.code)];  // the same item may be scanned again
    return true;
  }

  function flush() {
    if (sending) return;
    var queue = loadQueue();
    if (!queue.length) return;
    sending = true;
    var entry = queue[0];
    fetch(root.getAttribute("data-api"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrf,
        "Idempotency-Key": entry.key
      },
      body: JSON.stringify(entry.payload)
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        var settled = handleAnswer(entry, response, body);
        if (settled) saveQueue(loadQueue().filter(function (e) { return e.key !== entry.key; }));
        sending = false;
        if (settled) flush();
      });
    }).catch(function () {
      sending = false;
      status.textContent = "No connection. The scan is kept and will be sent when the signal is back.";
    });
  }

  function showWaiting(entry) {
    var item = show("pending", "Saved, not sent yet", entry.payload.code + " will be sent when the signal is back.");
    item.setAttribute("data-scan-key", entry.key);
  }

  function send(code) {
    code = code.trim();
    if (!code) return;
    if (foreignAddress(code)) {
      show("refused", "Not done: That is a web address, not a SafeHold label.", code);
      beep(false);
      return;
    }
    var key = normalise(code);
    if (seenThisVisit[key]) {
      show("repeat", "Already scanned", code);
      return;
    }
    seenThisVisit[key] = true;
    var payload = { code: code, action: root.getAttribute("data-action") };
    var jobId = root.getAttribute("data-job-id");
    if (jobId) payload.job_id = parseInt(jobId, 10);
    var extra = document.querySelectorAll("[data-scan-field]");
    Array.prototype.forEach.call(extra, function (field) {
      if (field.value) payload[field.getAttribute("data-scan-field")] = field.value;
    });
    var entry = { key: newKey(), payload: payload };
    var queue = loadQueue();
    queue.push(entry);
    saveQueue(queue);
    if (navigator.onLine === false) showWaiting(entry);
    flush();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(input.value);
    input.value = "";
    readyForNext();
  });

  // Camera scanning, continuous until stopped.
  var stream = null;
  var detector = null;
  var canvas = document.createElement("canvas");

  function decodeFrame() {
    if (!stream) return Promise.resolve(null);
    if (detector) {
      return detector.detect(video).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
    }
    if (!window.jsQR || !video.videoWidth) return Promise.resolve(null);
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    var context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(video, 0, 0);
    var image = context.getImageData(0, 0, canvas.width, canvas.height);
    var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
    return Promise.resolve(found ? found.data : null);
  }

  // The camera sees the same label many times a second: act on it once, not once a frame.
  var lastSeen = { code: null, at: 0 };

  function scanLoop() {
    if (!stream) return;
    decodeFrame().then(function (code) {
      var now = Date.now();
      var fresh = code && (code !== lastSeen.code || now - lastSeen.at > 4000);
      if (code) lastSeen = { code: code, at: now };
      if (fresh) send(code);
      window.setTimeout(scanLoop, code ? 900 : 150);
    }).catch(function () { window.setTimeout(scanLoop, 300); });
  }

  function stopCamera() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    video.hidden = true;
    cameraButton.textContent = "Scan with camera";
    cameraButton.setAttribute("aria-pressed", "false");
    readyForNext();
  }

  function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      show("refused", "No camera here", "Type the code, or use a scanner.");
      return;
    }
    var ready = Promise.resolve();
    if ("BarcodeDetector" in window) {
      ready = window.BarcodeDetector.getSupportedFormats().then(function (formats) {
        if (formats.indexOf("qr_code") >= 0) detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      });
    }
    ready.then(function () {
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    }).then(function (media) {
      stream = media;
      video.srcObject = media;
      video.hidden = false;
      video.play();
      cameraButton.textContent = "Stop camera";
      cameraButton.setAttribute("aria-pressed", "true");
      readyForNext();
      scanLoop();
    }).catch(function () {
      show("refused", "Camera not available", "Allow the camera, or type the code.");
    });
  }

  if (cameraButton) {
    cameraButton.addEventListener("click", function () { if (stream) stopCamera(); else startCamera(); });
  }
  window.addEventListener("pageshow", readyForNext);  // opened, or come back to with Back
  readyForNext();
  window.addEventListener("online", flush);
  window.setInterval(flush, 15000);
  saveQueue(loadQueue());
  flush();

  window.SafeHoldScanner = { send: send, flush: flush };
})();

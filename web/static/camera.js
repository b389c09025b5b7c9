// Camera scanning on phones: a QR code seen by the camera fills the scan input and sends it.
//
// The browser's own BarcodeDetector where it has one; elsewhere the `barcode-detector` polyfill
// (ZXing compiled to wasm), both served by Lacak itself from /static/vendor: nothing from a CDN.
(() => {
  "use strict";

  const button = document.getElementById("camera-button");
  const box = document.getElementById("camera");
  const video = document.getElementById("camera-video");
  const status = document.getElementById("camera-status");
  const input = document.getElementById("scan-input");
  if (!button || !box || !video || !input) return;

  const POLYFILL = "/static/vendor/barcode-detector/ponyfill.js";
  const WASM_DIR = "/static/vendor/zxing-wasm/";
  const EVERY_MS = 150;
  const FORGET_AFTER = 10; // empty frames (1.5 s) before the same code counts as a new scan

  let stream = null;
  let timer = 0;
  let detector = null;
  let lastCode = ""; // a code stays in view: it is sent once, until the camera sees another
  let missed = 0;

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error(`${src} tidak bisa dimuat`));
      document.head.append(script);
    });
  }

  async function makeDetector() {
    if ("BarcodeDetector" in window) {
      try {
        if ((await window.BarcodeDetector.getSupportedFormats()).includes("qr_code")) {
          return new window.BarcodeDetector({ formats: ["qr_code"] });
        }
      } catch {
        /* a BarcodeDetector without a working backend: use the polyfill */
      }
    }
    if (!window.BarcodeDetectionAPI) await loadScript(POLYFILL);
    window.BarcodeDetectionAPI.prepareZXingModule({
      overrides: {
        locateFile: (path, prefix) => (path.endsWith(".wasm") ? WASM_DIR + path : prefix + path),
      },
    });
    return new window.BarcodeDetectionAPI.BarcodeDetector({ formats: ["qr_code"] });
  }

  async function open() {
    if (!navigator.mediaDevices?.getUserMedia) {
      say("Kamera tidak tersedia di sini: browser hanya mengizinkan kamera lewat HTTPS atau localhost.");
      box.hidden = false;
      return;
    }
    box.hidden = false;
    say("Membuka kamera…");
    try {
      detector ||= await makeDetector();
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: "environment" } },
        audio: false,
      });
    } catch (error) {
      say(`Kamera tidak bisa dibuka: ${error.message || error}`);
      return;
    }
    video.srcObject = stream;
    await video.play().catch(() => {});
    say("Arahkan kamera ke kode QR pada label.");
    lastCode = "";
    missed = 0;
    look();
  }

  async function look() {
    if (!stream) return;
    try {
      if (video.readyState >= 2) {
        const codes = await detector.detect(video);
        const code = codes.length ? codes[0].rawValue.trim() : "";
        if (code && code !== lastCode) send(code);
        // A frame or two without the code is a shaky hand, not a new box: forget it later.
        missed = code ? 0 : missed + 1;
        if (code) lastCode = code;
        else if (missed >= FORGET_AFTER) lastCode = "";
      }
    } catch (error) {
      say(`Gagal membaca gambar: ${error.message || error}`);
    }
    timer = setTimeout(look, EVERY_MS);
  }

  function send(code) {
    say(`Terbaca: ${code}`);
    input.value = code;
    input.dataset.source = "camera"; // the scan screen leaves the phone's keyboard closed
    input.form.requestSubmit();
  }

  function close() {
    clearTimeout(timer);
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.srcObject = null;
    box.hidden = true;
    input.focus();
  }

  function say(text) {
    status.textContent = text;
  }

  button.addEventListener("click", () => (stream ? close() : open()));
  document.getElementById("camera-close")?.addEventListener("click", close);
  window.addEventListener("pagehide", close);
})();

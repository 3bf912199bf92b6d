/*
 * The clinic's page tracker: how long a visitor reads a page and how far they
 * scroll, sent to POST /api/v1/track/ (tied to the visitor cookie, CSRF-protected).
 * When the answer says so, it offers the contact form. No dependencies.
 *
 * Sends at most: one event when the reader passes half the page, one near the
 * end, and one when the page is hidden or left (navigator.sendBeacon, which
 * survives the page closing).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var endpoint = (script && script.dataset.endpoint) || "/api/v1/track/";
  var contactUrl = (script && script.dataset.contactUrl) || "/contact/";
  var dismissUrl = (script && script.dataset.dismissUrl) || "/contact/dismiss/";
  // The offer's words follow the tool the visitor used last (calculators/personal.py).
  var promptText = (script && script.dataset.promptText) ||
    "Would you like a personal treatment plan? Leave your details and a practitioner will get back to you.";
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  // A treatment page says which treatment it is about, signed by the server.
  var contextMeta = document.querySelector('meta[name="track-context"]');
  var token = tokenMeta ? tokenMeta.content : "";
  var lastSent = Date.now();
  var deepest = 0;
  var milestones = [50, 90];
  var prompted = false;

  function scrollDepth() {
    var doc = document.documentElement;
    var seen = window.scrollY + window.innerHeight;
    return Math.min(100, Math.round((seen / Math.max(doc.scrollHeight, 1)) * 100));
  }

  function takeSeconds() {
    var now = Date.now();
    var seconds = Math.round((now - lastSent) / 1000);
    lastSent = now;
    return Math.max(0, Math.min(seconds, 1800));
  }

  function payload() {
    var data = {
      event: "page_engagement",
      page_url: location.pathname + location.search,
      engagement_seconds: takeSeconds(),
      scroll_depth: deepest
    };
    if (contextMeta) { data.context = contextMeta.content; }
    return data;
  }

  function send() {
    return fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(payload())
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) { if (answer && answer.show_contact_prompt) { offerContact(); } })
      .catch(function () { /* tracking must never disturb the page */ });
  }

  function beacon() {
    if (!navigator.sendBeacon) { return; }
    var body = new URLSearchParams(payload());
    body.append("csrfmiddlewaretoken", token);
    // Nobody reads a beacon's answer: it must not use up an offer of the contact form.
    body.append("leaving", "true");
    navigator.sendBeacon(endpoint, new Blob([body.toString()], { type: "application/x-www-form-urlencoded" }));
  }

  function offerContact() {
    if (prompted || document.getElementById("contact-prompt")) { return; }
    prompted = true;
    var box = document.createElement("div");
    box.id = "track-prompt";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", "Talk to our team");
    box.className = "card shadow position-fixed bottom-0 end-0 m-3 p-3";
    box.style.maxWidth = "22rem";
    box.style.zIndex = "1050";
    var text = document.createElement("p");
    text.textContent = promptText;
    var go = document.createElement("a");
    go.className = "btn btn-dark btn-sm me-2";
    go.href = contactUrl + "?next=" + encodeURIComponent(location.pathname);
    go.textContent = "Leave my details";
    var no = document.createElement("button");
    no.type = "button";
    no.className = "btn btn-link btn-sm";
    no.textContent = "Not now";
    no.addEventListener("click", function () {
      box.remove();
      var body = new URLSearchParams({ csrfmiddlewaretoken: token, next: location.pathname });
      fetch(dismissUrl, { method: "POST", credentials: "same-origin", body: body }).catch(function () {});
    });
    box.append(text, go, no);
    document.body.append(box);
  }

  window.addEventListener("scroll", function () {
    deepest = Math.max(deepest, scrollDepth());
    while (milestones.length && deepest >= milestones[0]) {
      milestones.shift();
      send();
    }
  }, { passive: true });

  var away = false;
  function leave() {
    if (away) { return; }
    away = true;
    beacon();
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      leave();
    } else {
      // Back on the page: time spent in another tab is not reading time.
      away = false;
      lastSent = Date.now();
    }
  });
  window.addEventListener("pagehide", leave);
  deepest = scrollDepth();
})();

// Served into every page when the service has a read token (BEPGRAPH_READ_TOKEN).
// Asks for the token once, keeps it in sessionStorage (gone when the tab closes) and adds it as an
// Authorization header to the page's own same-origin requests (fetch and XMLHttpRequest): the token
// never goes into a URL, so it never reaches a log. A 401 forgets the token and asks again.
(function () {
  "use strict";
  var KEY = "bepgraph-read-token";

  function token() { return window.sessionStorage.getItem(KEY); }

  function sameOrigin(url) {
    try { return new URL(url, window.location.href).origin === window.location.origin; }
    catch (e) { return false; }
  }

  function ask(message) {
    if (document.getElementById("bepgraph-auth")) return;
    var show = function () {
      var box = document.createElement("form");
      box.id = "bepgraph-auth";
      box.setAttribute("style", "position:fixed;inset:0;z-index:99999;display:flex;align-items:center;" +
        "justify-content:center;background:rgba(0,0,0,.45);font:16px system-ui,sans-serif");
      box.innerHTML = '<div style="background:#fff;padding:1.5rem;border-radius:6px;max-width:26rem">' +
        '<p style="margin-top:0"><strong>bepgraph</strong> needs its read token.</p>' +
        '<p id="bepgraph-auth-message" style="color:#a00"></p>' +
        '<input id="bepgraph-auth-token" type="password" autocomplete="off" style="width:100%" ' +
        'aria-label="read token"> <button type="submit" style="margin-top:.75rem">Open</button></div>';
      box.querySelector("#bepgraph-auth-message").textContent = message || "";
      box.addEventListener("submit", function (event) {
        event.preventDefault();
        var value = box.querySelector("#bepgraph-auth-token").value.trim();
        if (!value) return;
        window.sessionStorage.setItem(KEY, value);
        window.location.reload();
      });
      document.body.appendChild(box);
      box.querySelector("#bepgraph-auth-token").focus();
    };
    if (document.body) show(); else document.addEventListener("DOMContentLoaded", show);
  }

  function refused() {
    window.sessionStorage.removeItem(KEY);
    ask("That token was not accepted; enter it again.");
  }

  var originalFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    var url = typeof input === "string" ? input : (input && input.url) || String(input);
    if (!sameOrigin(url) || !token()) return originalFetch(input, init);
    init = Object.assign({}, init || {});
    var headers = new Headers(init.headers || (typeof input !== "string" && input.headers) || {});
    headers.set("Authorization", "Bearer " + token());
    init.headers = headers;
    return originalFetch(input, init).then(function (response) {
      if (response.status === 401) refused();
      return response;
    });
  };

  var open = XMLHttpRequest.prototype.open;
  var send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this._bepgraphSameOrigin = sameOrigin(url);
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    if (this._bepgraphSameOrigin && token()) {
      this.setRequestHeader("Authorization", "Bearer " + token());
      this.addEventListener("load", function () { if (this.status === 401) refused(); });
    }
    return send.apply(this, arguments);
  };

  if (!token()) ask("");
})();

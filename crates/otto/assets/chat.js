// "Try Otto": a text conversation over the /chat WebSocket, as the caller ID the page names.
// Each line typed is one caller turn; each message back is one line of Otto's reply.
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root) { return; }
  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  function add(kind, text) {
    var li = document.createElement("li");
    li.className = "line " + kind;
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = kind === "caller" ? "You" : "Otto";
    var t = document.createElement("span");
    t.className = "text";
    t.textContent = text;
    li.appendChild(who);
    li.appendChild(t);
    log.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var ws = new WebSocket(scheme + location.host + "/chat?from=" + encodeURIComponent(root.dataset.from));
  ws.onmessage = function (e) { add("agent", e.data); };
  ws.onclose = function () { add("agent", "[conversation ended]"); input.disabled = true; };
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text || ws.readyState !== WebSocket.OPEN) { return; }
    add("caller", text);
    ws.send(text);
    input.value = "";
  });
})();

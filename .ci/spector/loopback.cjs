// Preloaded into the Spector mock server (node -r): Express listens on every
// interface, and a test server must stay on loopback. Every net.Server
// listen call is bound to 127.0.0.1, and the port it got is written to
// $SPECTOR_PORT_FILE so the caller can ask for port 0 and learn the port.
"use strict";
const net = require("net");
const fs = require("fs");

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (args.length > 0 && typeof args[0] === "object" && args[0] !== null) {
    args[0] = { ...args[0], host: "127.0.0.1" };
  } else if (typeof args[0] === "number" || typeof args[0] === "string") {
    const cb = args.find((a) => typeof a === "function");
    args = cb ? [args[0], "127.0.0.1", cb] : [args[0], "127.0.0.1"];
  }
  const file = process.env.SPECTOR_PORT_FILE;
  if (file) {
    this.once("listening", () => fs.writeFileSync(file, String(this.address().port)));
  }
  return listen.apply(this, args);
};

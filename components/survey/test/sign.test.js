// The tablet's HMAC-SHA256 (src/sign.js) against Node's own crypto and the server's doctest value.

import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { test } from "node:test";
import { hmacHex, sha256 } from "../src/sign.js";

const hex = (bytes) => Buffer.from(bytes).toString("hex");

test("sha256 matches Node's at every padding length and for Vietnamese text", () => {
  for (let n = 0; n < 200; n++) {
    const text = "a".repeat(n);
    assert.equal(hex(sha256(new TextEncoder().encode(text))), createHash("sha256").update(text).digest("hex"));
  }
  const vi = "Cán bộ quát tháo, đòi tiền — Hủy phiếu này?";
  assert.equal(hex(sha256(new TextEncoder().encode(vi))), createHash("sha256").update(vi, "utf8").digest("hex"));
});

test("hmac matches Node's for short, long and Vietnamese keys and bodies", () => {
  const cases = [
    ["k", "{}"],
    ["0".repeat(64), JSON.stringify({ surveys: [{ comment: "Rất hài lòng ✔" }] })],
    ["x".repeat(100), "b".repeat(5000)],
  ];
  for (const [key, body] of cases) {
    assert.equal(hmacHex(key, body), createHmac("sha256", key).update(body, "utf8").digest("hex"));
  }
  // The same value the server's doctest gives (sipas.survey.devices.sign).
  assert.equal(hmacHex("k", "{}"), "add853b103fbcc936a194f9eb15e29c4ff08af6e47d5d1bca4f20218e31e4fff");
});

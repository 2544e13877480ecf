// The tablet's outbox (src/queue.js) with an in-memory storage that behaves like localStorage.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  DEVICE_KEY,
  enrolDevice,
  QUEUE_KEY,
  SurveyQueue,
  shouldSend,
  syncMessage,
  TABLET_KEY,
  tabletId,
  uuid4,
} from "../src/queue.js";

// localStorage's interface: strings in, strings (or null) out; `full` refuses every write.
function memoryStorage(initial = {}, { full = false } = {}) {
  const items = new Map(Object.entries(initial));
  return {
    items,
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => {
      if (full) throw new Error("QuotaExceededError");
      items.set(key, String(value));
    },
  };
}

const stored = (storage) => JSON.parse(storage.items.get(QUEUE_KEY));

describe("SurveyQueue", () => {
  test("a start and then its survey: the survey replaces the start (same token), others stay", () => {
    const storage = memoryStorage();
    const q = new SurveyQueue(storage);
    q.addStart("t1", 1000);
    q.addStart("t2", 2000);
    q.putSurvey("t1", 5000, { token: "t1", overall: 5 });
    assert.deepEqual(stored(storage), [
      { token: "t2", at: 2000, survey: null },
      { token: "t1", at: 5000, survey: { token: "t1", overall: 5 } },
    ]);
    assert.deepEqual(
      q.pendingSurveys().map((e) => e.token),
      ["t1"],
    );
  });

  test("the same survey put twice is one entry (the latest)", () => {
    const q = new SurveyQueue(memoryStorage());
    q.putSurvey("t1", 1, { overall: 3 });
    q.putSurvey("t1", 2, { overall: 4 });
    assert.deepEqual(q.entries(), [{ token: "t1", at: 2, survey: { overall: 4 } }]);
  });

  test("acknowledged entries leave: a survey by r:, a start by s: or by its survey's r:", () => {
    const storage = memoryStorage();
    const q = new SurveyQueue(storage);
    q.addStart("a", 1);
    q.addStart("b", 2);
    q.addStart("c", 3);
    q.putSurvey("d", 4, { token: "d" });
    q.putSurvey("e", 5, { token: "e" });
    q.dropAcked(new Set(["s:a", "r:b", "r:d", "s:e"]));
    assert.deepEqual(
      stored(storage).map((e) => e.token),
      ["c", "e"], // a start acknowledged as started does not drop a completed survey ("s:e")
    );
  });

  test("nothing acknowledged writes nothing", () => {
    const storage = memoryStorage();
    const q = new SurveyQueue(storage);
    q.addStart("a", 1);
    let writes = 0;
    const setItem = storage.setItem;
    storage.setItem = (key, value) => {
      writes++;
      setItem(key, value);
    };
    q.dropAcked(new Set(["r:zzz", "s:zzz"]));
    assert.equal(writes, 0);
    assert.deepEqual(
      stored(storage).map((e) => e.token),
      ["a"],
    );
  });

  for (const [what, value] of [
    ["not JSON", "{not json"],
    ["an object, not a list", '{"token": "x"}'],
    ["null", "null"],
    ["a number", "42"],
  ]) {
    test(`a corrupt stored value (${what}) reads as an empty queue, and the next survey is kept`, () => {
      const storage = memoryStorage({ [QUEUE_KEY]: value });
      const q = new SurveyQueue(storage);
      assert.deepEqual(q.entries(), []);
      q.putSurvey("t1", 7, { token: "t1" });
      assert.deepEqual(stored(storage), [{ token: "t1", at: 7, survey: { token: "t1" } }]);
    });
  }

  test("a full storage keeps the queue in memory until it is sent", () => {
    const q = new SurveyQueue(memoryStorage({}, { full: true }));
    q.addStart("t1", 1);
    q.putSurvey("t2", 2, { token: "t2" });
    assert.deepEqual(
      q.entries().map((e) => e.token),
      ["t1", "t2"],
    );
    q.dropAcked(new Set(["s:t1"]));
    assert.deepEqual(
      q.entries().map((e) => e.token),
      ["t2"],
    );
  });

  test("the queue is not bounded: a hundred surveys waiting are all kept", () => {
    const storage = memoryStorage();
    const q = new SurveyQueue(storage);
    for (let i = 0; i < 100; i++) q.putSurvey(`t${i}`, i, { token: `t${i}` });
    assert.equal(stored(storage).length, 100);
    assert.equal(q.pendingSurveys().length, 100);
  });
});

describe("sending", () => {
  test("the message holds the starts and the surveys with their ages", () => {
    const q = [
      { token: "a", at: 1000, survey: null },
      { token: "b", at: 4000, survey: { token: "b", overall: 2 } },
    ];
    assert.deepEqual(syncMessage(q, 10000, "tab1", { retry: true }), {
      starts: [{ token: "a", ago_ms: 9000 }],
      surveys: [{ token: "b", overall: 2, completed_ago_ms: 6000 }],
      pending: 1,
      tablet: "tab1",
      sent_at: 10000,
      retry: true,
    });
    assert.deepEqual(q[1].survey, { token: "b", overall: 2 }); // the queued survey is not changed
  });

  test("a forced send goes at once; otherwise only with something queued, every 4 s, one at a time", () => {
    const base = { force: false, now: 100000, lastSend: 90000, inflight: false, queued: true };
    assert.equal(shouldSend({ ...base, force: true, lastSend: 99999, inflight: true, queued: false }), true);
    assert.equal(shouldSend(base), true);
    assert.equal(shouldSend({ ...base, queued: false }), false);
    assert.equal(shouldSend({ ...base, lastSend: 96001 }), false); // 3.999 s ago
    assert.equal(shouldSend({ ...base, lastSend: 96000 }), true); // 4 s ago
    assert.equal(shouldSend({ ...base, inflight: true }), false); // unanswered for 10 s
    assert.equal(shouldSend({ ...base, inflight: true, lastSend: 70000 }), true); // 30 s: taken as lost
  });
});

describe("identifiers", () => {
  test("uuid4 is a version-4 UUID from the random bytes given", () => {
    const id = uuid4((b) => b.fill(0xff));
    assert.equal(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
    assert.match(
      uuid4((b) => b.fill(0)),
      /^00000000-0000-4000-8000-000000000000$/,
    );
  });

  test("the tablet id is made once and kept", () => {
    const storage = memoryStorage();
    let made = 0;
    const newId = () => `${++made}bcdef12-rest`;
    assert.equal(tabletId(storage, newId), "1bcdef12");
    assert.equal(tabletId(storage, newId), "1bcdef12");
    assert.equal(storage.items.get(TABLET_KEY), "1bcdef12");
    assert.equal(made, 1);
  });

  test("without storage the tablet says so instead of failing", () => {
    assert.equal(
      tabletId(memoryStorage({}, { full: true }), () => "abcdefgh"),
      "khong-luu",
    );
  });
});

describe("start tokens and signed bodies", async () => {
  const { TokenStock, STOCK_KEY, messageBody, MAX_BODY, enrolledDevice, saveDevice } = await import("../src/queue.js");

  test("a token is taken once and stays spent when the server's list still has it", () => {
    const storage = memoryStorage();
    const stock = new TokenStock(storage);
    stock.replace(["a1", "b2", "c3"]);
    assert.equal(stock.take(), "a1");
    // The server has not heard of the start yet: its list still holds a1, which is not taken again.
    const again = new TokenStock(storage);
    again.replace(["a1", "b2", "c3", "d4"]);
    assert.deepEqual(JSON.parse(storage.items.get(STOCK_KEY)).tokens, ["b2", "c3", "d4"]);
    assert.deepEqual([again.take(), again.take(), again.take(), again.take()], ["b2", "c3", "d4", null]);
  });

  test("a body never exceeds the limit while it carries at least one survey", () => {
    const big = "x".repeat(30000);
    const q = Array.from({ length: 20 }, (_, i) => ({
      token: `t${i}`,
      at: 0,
      survey: { token: `t${i}`, comment: big },
    }));
    const body = messageBody(q, 1000, "quay1");
    assert.ok(body.length <= MAX_BODY);
    const parsed = JSON.parse(body);
    assert.ok(parsed.surveys.length >= 1 && parsed.surveys.length < 20);
    assert.equal(parsed.tablet, "quay1");
  });

  test("the device secret is read back only when whole", () => {
    const storage = memoryStorage();
    assert.equal(enrolledDevice(storage), null);
    saveDevice(storage, { name: "quay1", secret: "s" });
    assert.deepEqual(enrolledDevice(storage), { name: "quay1", secret: "s" });
  });
});

describe("surveys queued before the tablet was enrolled", () => {
  // What a tablet of the release before enrolment left in its queue: its own uuid tokens.
  const before = [
    { token: "0b7e-legacy-start", at: 1000, survey: null },
    { token: "5f3c-legacy-survey", at: 2000, survey: { token: "5f3c-legacy-survey", overall: 4 } },
  ];

  test("are marked legacy at enrolment, once, and sent marked; later surveys are not", () => {
    const storage = memoryStorage({ [QUEUE_KEY]: JSON.stringify(before) });
    const q = new SurveyQueue(storage);
    assert.equal(enrolDevice(storage, { name: "quay1", secret: "s1" }, q), true);
    assert.deepEqual(JSON.parse(storage.items.get(DEVICE_KEY)), { name: "quay1", secret: "s1" });
    assert.equal(enrolDevice(storage, { name: "quay1", secret: "s1" }, q), false); // every render: no change
    q.putSurvey("server-token-1", 3000, { token: "server-token-1", overall: 5 });
    const msg = syncMessage(q.entries(), 5000, "quay1");
    assert.deepEqual(msg.starts, [{ token: "0b7e-legacy-start", ago_ms: 4000, legacy: true }]);
    assert.deepEqual(
      msg.surveys.map((s) => [s.token, s.legacy === true, s.completed_ago_ms]),
      [
        ["5f3c-legacy-survey", true, 3000],
        ["server-token-1", false, 2000],
      ],
    );
  });

  test("a re-enrolment (new secret) marks what the old enrolment left", () => {
    const storage = memoryStorage({ [QUEUE_KEY]: "[]" });
    const q = new SurveyQueue(storage);
    enrolDevice(storage, { name: "quay1", secret: "s1" }, q);
    q.putSurvey("t-old", 1000, { token: "t-old" });
    assert.equal(enrolDevice(storage, { name: "quay1", secret: "s2" }, q), true);
    assert.equal(q.entries()[0].legacy, true);
  });
});

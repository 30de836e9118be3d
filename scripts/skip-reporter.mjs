// A node:test reporter that writes one JSON line per skipped test ({name, reason}); the test
// runner (scripts/run-tests.mjs) reads them to end `npm test` with a line naming what was skipped
// and why (a fresh machine without Fashion-MNIST or Chromium must not pass silently).
export default async function* skipReporter(source) {
  for await (const event of source) {
    // (a skipped test is reported as passed with a `skip` field)
    if ((event.type === "test:pass" || event.type === "test:skip") && event.data.skip !== undefined && event.data.skip !== false) {
      const reason = typeof event.data.skip === "string" ? event.data.skip : "skipped";
      yield `${JSON.stringify({ name: event.data.name, reason })}\n`;
    }
  }
}

// Calls callables of the BUILT functions (functions/lib) in this process, as the Cloud Functions HTTP
// server would: a POST of `{ data: {} }`, no Authorization header, and an App Check token only when
// APP_CHECK_TOKEN is set. Prints one `RESULT <json>` line per name with its HTTP status and body.
// Used by test/functions/appCheck.test.ts.
const [lib, ...names] = process.argv.slice(2);
const callables = require(lib);
const token = process.env.APP_CHECK_TOKEN;

function call(name) {
  const headers = { 'content-type': 'application/json', origin: 'https://app.example.test', ...(token ? { 'x-firebase-appcheck': token } : {}) };
  const req = { method: 'POST', url: '/', headers, body: { data: {} }, header: (n) => headers[n.toLowerCase()], get: (n) => headers[n.toLowerCase()] };
  return new Promise((resolve) => {
    const out = { name, status: 200 };
    const finish = (body) => resolve({ ...out, body });
    const res = {
      status(code) { out.status = code; return res; },
      setHeader() {}, getHeader() {}, set() { return res; }, on() {}, write() {},
      json: finish, send: finish, end: finish,
    };
    Promise.resolve(callables[name](req, res)).catch((error) => finish({ thrown: String(error) }));
  });
}

(async () => {
  for (const name of names) process.stdout.write(`\nRESULT ${JSON.stringify(await call(name))}\n`);
  process.exit(0);
})();

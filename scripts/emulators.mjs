#!/usr/bin/env node
// Runs the Firebase emulator suite offline-first, for `npm start`, `npm test` and `npm run bench`.
// Uses the Firestore emulator jar installed on this machine where there is one, lets firebase-tools
// download its own elsewhere, and fails at once with one clear message when neither can work.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const firebaseBin = join(root, 'node_modules', '.bin', 'firebase');
const INSTALLED_JAR = '/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar';
const MAIN_CLASS = 'com.google.cloud.datastore.emulator.firestore.CloudFirestore';
const STARTUP_LIMIT_MS = 300_000; // generous: a loaded 2-core machine has taken over 120 s
// How long a helper process (Stripe simulator, DNS server, mail catcher) may take to start: a module-heavy
// Node start takes over 30 s on a 2-core machine that seven test runs share.
const HELPER_STARTUP_LIMIT_MS = 90_000;

function fail(message) {
  console.error(`\n✖ ${message}\n`);
  process.exit(1);
}

function has(command, args = ['-version']) {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

/** Returns env vars that point firebase-tools at a usable Firestore emulator, or exits with advice. */
function firestoreEmulatorEnv() {
  if (!has('java')) {
    fail('Java is not installed. The Firestore emulator needs Java 11 or newer (17 works): install a JDK, e.g. `apt-get install openjdk-17-jdk-headless`.');
  }
  if (existsSync(INSTALLED_JAR)) {
    // firebase-tools runs `java -jar` and chmods the file, so it gets a patched copy, never the system jar.
    const copy = join(root, '.cache', 'firestore-emulator', 'cloud-firestore-emulator.jar');
    const stamp = `${copy}.source-mtime`;
    const sourceMtime = String(statSync(INSTALLED_JAR).mtimeMs);
    if (!existsSync(copy) || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== sourceMtime) {
      if (!has('jar', ['--version'])) fail('The `jar` tool (part of a JDK) is needed to prepare the installed Firestore emulator: install openjdk-17-jdk-headless.');
      mkdirSync(dirname(copy), { recursive: true });
      copyFileSync(INSTALLED_JAR, copy);
      const patched = spawnSync('jar', ['--update', '--file', copy, '--main-class', MAIN_CLASS], { stdio: 'inherit' });
      if (patched.status !== 0) fail(`Could not prepare ${copy} from ${INSTALLED_JAR}.`);
      writeFileSync(stamp, sourceMtime);
    }
    return { FIRESTORE_EMULATOR_BINARY_PATH: copy };
  }
  const cacheDir = join(homedir(), '.cache', 'firebase', 'emulators');
  const cached = existsSync(cacheDir) && readdirSync(cacheDir).some((f) => /^cloud-firestore-emulator.*\.jar$/.test(f));
  if (cached) return {};
  return 'download';
}

async function canReachGoogleStorage() {
  try {
    await fetch('https://storage.googleapis.com/', { method: 'HEAD', signal: AbortSignal.timeout(5000) });
    return true;
  } catch {
    return false;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A copy of firebase.json with free ports, so a test run never collides with `npm start` or another run. */
async function configWithFreePorts(services) {
  const config = JSON.parse(readFileSync(join(root, 'firebase.json'), 'utf8'));
  // Every port the suite opens, including the helper emulators firebase-tools starts on its own.
  for (const name of [...services, 'hub', 'logging', 'eventarc', 'tasks']) {
    config.emulators[name] = { host: '127.0.0.1', port: await freePort() };
  }
  if (config.emulators.firestore) config.emulators.firestore.websocketPort = await freePort();
  const path = join(root, `.emulator-config-${process.pid}.json`);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return { path, config };
}

/**
 * Runs firebase-tools in its own process group. Its output goes to the terminal (`npm start`) or to
 * `logFile` (tests and bench: the Functions emulator logs every invocation, which would bury the results).
 */
function run(args, env, { onReady, logFile } = {}) {
  const child = spawn(firebaseBin, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const log = logFile ? createWriteStream(logFile) : null;
  let ready = false;
  const watchdog = setTimeout(() => {
    if (ready) return;
    console.error(`\n✖ The emulators did not become ready within ${STARTUP_LIMIT_MS / 1000} s; stopping.${logFile ? ` Their log: ${logFile}` : ''}`);
    killGroup(child);
  }, STARTUP_LIMIT_MS);
  const forward = (stream) => (chunk) => {
    const text = chunk.toString();
    if (log) log.write(text);
    else stream.write(text);
    if (!ready && /All emulators ready/.test(text)) {
      ready = true;
      clearTimeout(watchdog);
      onReady?.();
    }
  };
  child.stdout.on('data', forward(process.stdout));
  child.stderr.on('data', forward(process.stderr));
  const stop = () => killGroup(child);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      log?.end();
      resolve(code ?? (signal ? 1 : 0));
    }),
  );
  return { exited, stop };
}

/**
 * firebase-tools starts the Firestore JVM in a session of its own, so killing firebase-tools' group
 * (after a shutdown that hung) leaves it running: stop any JVM still serving this run's project id.
 */
function reapFirestoreJvm(projectId) {
  if (!existsSync('/proc')) return;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let cmdline = '';
    try { cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
    const args = cmdline.split('\0');
    if (args.includes('--project_id') && args[args.indexOf('--project_id') + 1] === projectId && /cloud-firestore-emulator/.test(cmdline)) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch {}
    }
  }
}

function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGINT');
  } catch {}
  setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, 15_000).unref();
}

/** Test-mode values the local Stripe simulator accepts; a real key in the environment goes in their place. */
const LOCAL_SECRETS = {
  STRIPE_SECRET_KEY: process.env.STRIPE_SECRET_KEY ?? 'sk_test_local_placeholder',
  STRIPE_WEBHOOK_SECRET: process.env.STRIPE_WEBHOOK_SECRET ?? 'whsec_local_placeholder',
};
const localWebhookSecret = () => LOCAL_SECRETS.STRIPE_WEBHOOK_SECRET;

/**
 * The Functions emulator's documented sources: secrets from `functions/.secret.local` (git-ignored),
 * params from `functions/.env.<projectId>`, one file per run, removed when it ends. Every param the
 * functions declare (functions/src/config.ts) gets a line, its default where the launcher sets nothing,
 * so the emulator never stops to prompt for one.
 */
function writeFunctionsConfig(projectId, values) {
  const { SECRETS, STRING_AND_INT_PARAMS } = createRequire(import.meta.url)(join(root, 'functions', 'lib', 'config.js'));
  const dotenv = (entries) => entries.map(([name, value]) => `${name}=${String(value ?? '')}`).join('\n') + '\n';
  const secretNames = SECRETS.map((secret) => secret.name);
  const unknown = Object.keys(LOCAL_SECRETS).filter((name) => !secretNames.includes(name));
  if (unknown.length) fail(`The launcher sets secrets the functions do not declare: ${unknown.join(', ')} (functions/src/config.ts)`);
  writeFileSync(join(root, 'functions', '.secret.local'), `# Written by scripts/emulators.mjs: the local Stripe simulator's test-mode values.\n${dotenv(Object.entries(LOCAL_SECRETS))}`);
  const envFile = join(root, 'functions', `.env.${projectId}`);
  writeFileSync(envFile, `# Written by scripts/emulators.mjs for this run; removed when it ends.\n${dotenv(STRING_AND_INT_PARAMS.map((param) => [param.name, values[param.name] ?? param.options.default]))}`);
  process.on('exit', () => rmSync(envFile, { force: true }));
}

/** The `stripeWebhook` function's URL on a Functions emulator (its default region). */
const webhookUrl = (functionsPort, projectId) => `http://127.0.0.1:${functionsPort}/${projectId}/us-central1/stripeWebhook`;

/**
 * The local Stripe simulator (tools/fake-stripe), started beside the emulators; resolves with its URL.
 * `args`: more CLI options (webhook target, local test clock); `echo` shows its output (npm start).
 */
function startFakeStripe(port, args = [], echo = false) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'tools', 'fake-stripe', 'cli.ts'), '--port', String(port), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.on('exit', () => child.kill('SIGTERM'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the fake Stripe did not start within ${HELPER_STARTUP_LIMIT_MS / 1000} s`)), HELPER_STARTUP_LIMIT_MS);
    child.stdout.on('data', (chunk) => {
      if (echo) process.stdout.write(chunk);
      const match = /listening on (\S+)/.exec(chunk.toString());
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`the fake Stripe exited with code ${code}`)));
  });
}

/** The local DNS server (tools/local-dns) that domain capture's lookups go to; resolves with its env vars. */
function startLocalDns(port, controlPort) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'tools', 'local-dns', 'cli.ts'), '--port', String(port), '--control-port', String(controlPort)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.on('exit', () => child.kill('SIGTERM'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the local DNS server did not start within ${HELPER_STARTUP_LIMIT_MS / 1000} s`)), HELPER_STARTUP_LIMIT_MS);
    child.stdout.on('data', (chunk) => {
      const match = /listening on (\S+) \(control (\S+)\)/.exec(chunk.toString());
      if (match) {
        clearTimeout(timer);
        resolve({ DNS_SERVERS: match[1], LOCAL_DNS_CONTROL: match[2] });
      }
    });
    child.on('exit', (code) => reject(new Error(`the local DNS server exited with code ${code}`)));
  });
}

/**
 * The local mail catcher (MailDev): SMTP in, a web inbox and a REST API out, its mail in a folder of
 * this run's own. Resolves with its SMTP address and inbox URL once the inbox answers.
 */
async function startMailCatcher(smtpPort, webPort) {
  const dir = mkdtempSync(join(tmpdir(), 'tenancy-maildev-'));
  const args = ['--smtp', String(smtpPort), '--web', String(webPort), '--ip', '127.0.0.1', '--web-ip', '127.0.0.1', '--mail-directory', dir, '--silent'];
  const child = spawn(join(root, 'node_modules', '.bin', 'maildev'), args, { cwd: root, stdio: 'ignore' });
  process.on('exit', () => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  const inbox = `http://127.0.0.1:${webPort}`;
  const deadline = Date.now() + HELPER_STARTUP_LIMIT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`MailDev exited with code ${child.exitCode} (is port ${smtpPort} or ${webPort} taken?)`);
    if (await fetch(`${inbox}/api/healthz`).then((r) => r.ok, () => false)) return { smtp: `127.0.0.1:${smtpPort}`, inbox };
    if (Date.now() > deadline) throw new Error(`MailDev did not start within ${HELPER_STARTUP_LIMIT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The local mail worker (tools/mail-worker): delivers the `mail` collection of the running Firestore
 * emulator to the mail catcher, as the Trigger Email extension does in production.
 */
function startMailWorker(smtp, firestoreEnv, logFile) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'tools', 'mail-worker', 'cli.ts'), '--smtp', smtp], {
    cwd: root,
    env: { ...process.env, ...firestoreEnv },
    stdio: ['ignore', logFile ? 'pipe' : 'inherit', logFile ? 'pipe' : 'inherit'],
  });
  if (logFile) {
    const log = createWriteStream(logFile, { flags: 'a' });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
  }
  process.on('exit', () => child.kill('SIGTERM'));
  return child;
}

/** What `emulators:exec` would export to its script, read from the hub of a running suite. */
async function emulatorEnv(hubAddress, projectId) {
  const emulators = await (await fetch(`http://${hubAddress}/emulators`)).json();
  const address = (name) => `${emulators[name].host}:${emulators[name].port}`;
  return {
    GCLOUD_PROJECT: projectId,
    FIREBASE_EMULATOR_HUB: hubAddress,
    FIRESTORE_EMULATOR_HOST: address('firestore'),
    FIREBASE_FIRESTORE_EMULATOR_ADDRESS: address('firestore'),
    FIREBASE_AUTH_EMULATOR_HOST: address('auth'),
    ...(emulators.tasks ? { CLOUD_TASKS_EMULATOR_HOST: address('tasks') } : {}),
  };
}

/** The command a mode runs against the emulators: vitest for tests and coverage, the bench script. */
function commandFor(mode, args) {
  const vitest = [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run'];
  if (mode === 'test') return [...vitest, ...args];
  if (mode === 'coverage') return [...vitest, '--coverage', ...args];
  return ['--import', 'tsx', join(root, 'scripts', 'bench.ts'), ...args];
}

async function main() {
  const mode = process.argv[2];
  if (!['start', 'test', 'coverage', 'bench'].includes(mode)) fail('usage: node scripts/emulators.mjs start|test|coverage|bench [args]');
  if (!existsSync(firebaseBin)) fail('firebase-tools is not installed: run `npm install` first.');
  let env = firestoreEmulatorEnv();
  if (env === 'download') {
    if (!(await canReachGoogleStorage())) {
      fail('No Firestore emulator here and no way to download one. Install it (`apt-get install google-cloud-cli-firestore-emulator` from the Google Cloud apt repository) or connect to the internet once so firebase-tools can download its own.');
    }
    env = {};
  }

  // A Functions worker must load within this many seconds (firebase-tools' default is 30): 20 callers at
  // once on a loaded 2-core machine start 20 workers together, and one that misses it never answers.
  env.FUNCTIONS_DISCOVERY_TIMEOUT = process.env.FUNCTIONS_DISCOVERY_TIMEOUT ?? '120';

  // Without a real key the functions talk to the local Stripe simulator (STRIPE_API_BASE); see README.
  // Under npm start it delivers signed events to the local stripeWebhook, and every customer the app
  // makes joins one local test clock (docs/fake-stripe.md). Tests register the webhook when they want it.
  const localStripe = !process.env.STRIPE_API_BASE && !process.env.STRIPE_SECRET_KEY;
  if (localStripe) {
    const startArgs = [
      '--webhook-url', webhookUrl(JSON.parse(readFileSync(join(root, 'firebase.json'), 'utf8')).emulators.functions.port, 'demo-tenancy'),
      '--webhook-secret', localWebhookSecret(),
      '--default-test-clock', '--account', LOCAL_SECRETS.STRIPE_SECRET_KEY, '--log-deliveries',
    ];
    env.STRIPE_API_BASE = mode === 'start' ? await startFakeStripe(12111, startArgs, true) : await startFakeStripe(await freePort());
  }

  // Mail goes to a local catcher with a web inbox; the links in it open the web app at APP_URL.
  // (Not for the bench: nobody reads its mail, and delivering it would load the emulator it measures.)
  const mail = mode === 'bench' ? null : await startMailCatcher(mode === 'start' ? 1025 : await freePort(), mode === 'start' ? 1080 : await freePort()).catch((error) => fail(`Could not start the local mail catcher: ${error.message}`));
  if (mail) env.MAIL_INBOX_URL = mail.inbox;
  env.APP_URL = mode === 'start' ? 'http://127.0.0.1:5000' : `http://127.0.0.1:${await freePort()}`;

  // Domain-capture lookups go to a DNS server on loopback, whose records `npm run dns` sets (README).
  if (!process.env.DNS_SERVERS) {
    Object.assign(env, await startLocalDns(mode === 'start' ? 8053 : await freePort(), mode === 'start' ? 8054 : await freePort()));
  }

  // Scripts and tests beside the emulators call Stripe in-process: they get the secrets the functions get from .secret.local.
  const clientEnv = { ...env, ...LOCAL_SECRETS };

  if (mode === 'start') {
    writeFunctionsConfig('demo-tenancy', { ...process.env, ...env });
    const { exited } = run(['emulators:start', '--project', 'demo-tenancy', '--only', 'auth,firestore,functions,hosting'], env, {
      onReady: () => {
        const firestore = { GCLOUD_PROJECT: 'demo-tenancy', FIRESTORE_EMULATOR_HOST: '127.0.0.1:8080' };
        startMailWorker(mail.smtp, firestore);
        const seed = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'seed-demo.ts')], {
          cwd: root,
          stdio: 'inherit',
          env: { ...process.env, ...clientEnv, ...firestore, FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099' },
        });
        seed.on('exit', (seedCode) => { if (seedCode !== 0) console.error('✖ Seeding demo data failed (see above); the emulators keep running.'); });
      },
    });
    process.exit(await exited);
  }

  // Tests and bench: a suite of their own on free ports, under a project id of their own (firebase-tools
  // keys its hub file by project id), its chatter in a log file, the command's output on the terminal.
  const services = ['auth', 'firestore', 'functions'];
  const { path, config } = await configWithFreePorts(services);
  const projectId = `demo-${mode}-${process.pid}`;
  writeFunctionsConfig(projectId, { ...process.env, ...env });
  const logDir = join(root, '.cache', 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `emulators-${mode}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  console.log(`Starting the emulator suite (project ${projectId}); its log: ${relative(process.cwd(), logFile)}`);
  if (mode !== 'bench') {
    const { findBrowser } = await import('./browser.mjs');
    const browser = await findBrowser().catch((error) => ({ path: `none found (${error.message})`, source: 'nothing' }));
    console.log(`The e2e tests drive ${browser.path} (found via ${browser.source}).`);
  }
  let started;
  const ready = new Promise((resolve) => (started = resolve));
  const suite = run(['emulators:start', '--config', path, '--project', projectId, '--only', services.join(',')], env, { onReady: () => started(), logFile });
  const outcome = await Promise.race([ready.then(() => 'ready'), suite.exited.then(() => 'exited')]);
  rmSync(path, { force: true });
  if (outcome !== 'ready') {
    reapFirestoreJvm(projectId);
    fail(`The emulator suite stopped before it was ready. Its log: ${logFile}`);
  }

  const hub = `${config.emulators.hub.host}:${config.emulators.hub.port}`;
  const suiteEnv = await emulatorEnv(hub, projectId);
  const worker = mail && startMailWorker(mail.smtp, suiteEnv, logFile.replace(/\.log$/, '-mail-worker.log'));
  const command = spawn(process.execPath, commandFor(mode, process.argv.slice(3)), {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      ...clientEnv,
      ...suiteEnv,
      EMULATOR_LOG_FILE: logFile,
      // The run's own stripeWebhook and its secret, for tests that have the simulator deliver to it.
      ...(localStripe ? { STRIPE_WEBHOOK_URL: webhookUrl(config.emulators.functions.port, projectId), STRIPE_WEBHOOK_SECRET: localWebhookSecret() } : {}),
    },
  });
  const code = await new Promise((resolve) => command.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))));
  if (code !== 0) console.error(`\nThe emulators' log of this run (function invocations and their output): ${logFile}`);
  worker?.kill('SIGTERM');
  suite.stop();
  await suite.exited;
  reapFirestoreJvm(projectId);
  process.exit(code);
}

main().catch((error) => fail(error.stack ?? String(error)));

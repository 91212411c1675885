#!/usr/bin/env node
// Runs the Firebase emulator suite offline-first, for `npm start`, `npm test` and `npm run bench`.
// Uses the Firestore emulator jar installed on this machine where there is one, lets firebase-tools
// download its own elsewhere, and fails at once with one clear message when neither can work.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const firebaseBin = join(root, 'node_modules', '.bin', 'firebase');
const INSTALLED_JAR = '/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar';
const MAIN_CLASS = 'com.google.cloud.datastore.emulator.firestore.CloudFirestore';
const STARTUP_LIMIT_MS = 120_000;

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

/** Test files under test/, optionally only those under the given paths (`npm test -- test/rules`). */
function listTests(only = []) {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.test.ts')) found.push(relative(root, full));
    }
  };
  walk(join(root, 'test'));
  const wanted = only.map((p) => relative(root, join(root, p)));
  return found.filter((f) => wanted.length === 0 || wanted.some((w) => f === w || f.startsWith(`${w}/`))).sort();
}

function run(args, env, { onReady } = {}) {
  const child = spawn(firebaseBin, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  let ready = false;
  const watchdog = setTimeout(() => {
    if (ready) return;
    console.error(`\n✖ The emulators did not become ready within ${STARTUP_LIMIT_MS / 1000} s; stopping. See firebase-debug.log.`);
    killGroup(child);
  }, STARTUP_LIMIT_MS);
  child.stdout.on('data', (chunk) => {
    const text = chunk.toString();
    process.stdout.write(text);
    if (!ready && /All emulators ready|Running script:/.test(text)) {
      ready = true;
      clearTimeout(watchdog);
      onReady?.();
    }
  });
  const stop = () => killGroup(child);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return new Promise((resolve) => child.on('exit', (code, signal) => { clearTimeout(watchdog); resolve(code ?? (signal ? 1 : 0)); }));
}

function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGINT');
  } catch {}
  setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, 15_000).unref();
}

/** The local fake Stripe (tools/fake-stripe), started beside the emulators; resolves with its URL. */
function startFakeStripe(port) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'tools', 'fake-stripe', 'cli.ts'), '--port', String(port)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.on('exit', () => child.kill('SIGTERM'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the fake Stripe did not start within 20 s')), 20_000);
    child.stdout.on('data', (chunk) => {
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
    const timer = setTimeout(() => reject(new Error('the local DNS server did not start within 20 s')), 20_000);
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

async function main() {
  const mode = process.argv[2];
  if (!['start', 'test', 'bench'].includes(mode)) fail('usage: node scripts/emulators.mjs start|test|bench');
  if (!existsSync(firebaseBin)) fail('firebase-tools is not installed: run `npm install` first.');
  let env = firestoreEmulatorEnv();
  if (env === 'download') {
    if (!(await canReachGoogleStorage())) {
      fail('No Firestore emulator here and no way to download one. Install it (`apt-get install google-cloud-cli-firestore-emulator` from the Google Cloud apt repository) or connect to the internet once so firebase-tools can download its own.');
    }
    env = {};
  }

  // Without a real key the functions talk to the local fake Stripe (STRIPE_API_BASE); see README.
  if (!process.env.STRIPE_API_BASE && !process.env.STRIPE_SECRET_KEY) {
    env.STRIPE_API_BASE = await startFakeStripe(mode === 'start' ? 12111 : await freePort());
    env.STRIPE_SECRET_KEY = 'sk_test_local_placeholder';
  }

  // Domain-capture lookups go to a DNS server on loopback, whose records `npm run dns` sets (README).
  if (!process.env.DNS_SERVERS) {
    Object.assign(env, await startLocalDns(mode === 'start' ? 8053 : await freePort(), mode === 'start' ? 8054 : await freePort()));
  }

  if (mode === 'start') {
    const code = await run(['emulators:start', '--project', 'demo-tenancy', '--only', 'auth,firestore,functions,hosting'], env, {
      onReady: () => {
        const seed = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'seed-demo.ts')], {
          cwd: root,
          stdio: 'inherit',
          env: { ...process.env, ...env, GCLOUD_PROJECT: 'demo-tenancy', FIRESTORE_EMULATOR_HOST: '127.0.0.1:8080', FIREBASE_AUTH_EMULATOR_HOST: '127.0.0.1:9099' },
        });
        seed.on('exit', (seedCode) => { if (seedCode !== 0) console.error('✖ Seeding demo data failed (see above); the emulators keep running.'); });
      },
    });
    process.exit(code);
  }

  const services = ['auth', 'firestore', 'functions'];
  // A project id of its own per run: firebase-tools keys its hub file by project id.
  const { path } = await configWithFreePorts(services);
  const script = mode === 'test'
    ? ['node', '--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...listTests(process.argv.slice(3))].join(' ')
    : ['node', '--import', 'tsx', 'scripts/bench.ts'].join(' ');
  const code = await run(['emulators:exec', '--config', path, '--project', `demo-${mode}-${process.pid}`, '--only', services.join(','), script], env);
  rmSync(path, { force: true });
  process.exit(code);
}

main().catch((error) => fail(error.stack ?? String(error)));

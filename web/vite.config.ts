/// <reference types="node" />
import react from '@vitejs/plugin-react';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

/**
 * The startup config the app fetches as /emulators.json (src/firebase.ts). A production build ships
 * public/emulators.json and fails unless it says `"useEmulators": false` (an app that talks to
 * 127.0.0.1 must never be deployed); the emulators build (`--mode emulators`) ships emulators.local.json.
 */
function startupConfig(mode: string): Plugin {
  let outDir = 'dist';
  return {
    name: 'tenancy-startup-config',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    buildStart() {
      if (mode === 'emulators') return;
      const path = join(__dirname, 'public', 'emulators.json');
      const config = JSON.parse(readFileSync(path, 'utf8')) as { useEmulators?: unknown };
      if (config.useEmulators !== false) {
        this.error(`${path} is the emulator config: a production build needs "useEmulators": false there (README, Deploying). The emulators build (npm start, npm test) uses web/emulators.local.json.`);
      }
    },
    closeBundle() {
      if (mode === 'emulators') writeFileSync(join(outDir, 'emulators.json'), readFileSync(join(__dirname, 'emulators.local.json')));
    },
  };
}

export default defineConfig(({ mode }) => ({
  plugins: [react(), startupConfig(mode)],
  // The plan catalog and the policy table are imported from functions/src/domain, one folder up.
  server: { fs: { allow: ['..'] } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Which chunks each route needs: scripts/bundle-size.ts reads it to report the signup route's size.
    manifest: true,
    // Every browser the app supports has <link rel=modulepreload>; the polyfill would ship with every page.
    modulePreload: { polyfill: false },
    // Terser with two passes trims the signup route by about 4 kB gzipped over esbuild (target: 120 kB, see docs/benchmarks.md).
    minify: 'terser',
    terserOptions: { ecma: 2020, compress: { passes: 2 } },
  },
}));

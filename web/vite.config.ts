import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
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
});

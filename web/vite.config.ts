import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  // The plan catalog is imported from functions/src/domain, one folder up.
  server: { fs: { allow: ['..'] } },
  // The Firebase SDK (Auth, Firestore, Functions) is most of the one ~540 kB bundle; three pages need no splitting.
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 800 },
});

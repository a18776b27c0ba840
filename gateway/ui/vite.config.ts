import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// Relative asset paths so the gateway may serve the UI under a static prefix.
// RUNSTASH_API (dev only) proxies the REST API to a running server.
const api = process.env.RUNSTASH_API ?? 'http://127.0.0.1:5000';

export default defineConfig({
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 1000 },
  server: {
    proxy: {
      '/ajax-api': api,
      '/api': api,
      '/get-artifact': api,
    },
  },
  test: { include: ['src/**/*.test.ts', 'src/**/*.test.tsx'] },
});

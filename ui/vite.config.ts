/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { svelteTesting } from "@testing-library/svelte/vite";

// The Tauri shell loads ui/dist (production) or the dev server on port 1420 (`tauri dev`).
export default defineConfig(({ mode }) => ({
  plugins: [svelte(), svelteTesting()],
  base: "./",
  clearScreen: false,
  // Tests run Svelte's browser build in jsdom.
  resolve: mode === "test" ? { conditions: ["browser"] } : {},
  server: {
    port: 1420,
    strictPort: true,
    watch: { ignored: ["**/src-tauri/**", "**/target/**"] },
  },
  build: {
    target: "es2021",
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    // One CSS file and hashed chunks, all served by the app itself (CSP: default-src 'self').
    cssCodeSplit: false,
    assetsInlineLimit: 0,
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    restoreMocks: true,
  },
}));

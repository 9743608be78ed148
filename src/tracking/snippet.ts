import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/**
 * The browser snippet a brand puts on its landing pages (`<script src="https://earnest.example/s.js">`):
 * it keeps the visitor's Earnest click ids for the attribution window and hands them to the brand's
 * code, and reports marked elements that were viewed (snippet.source.js says how). Served minified, gzipped when the browser accepts it, with an ETag.
 */
export interface BrowserSnippet {
  js: string;
  gzip: Buffer;
  etag: string;
}

let built: BrowserSnippet | undefined;

/**
 * Bundled (the viewability rule comes from view-timer.ts) and minified once per process: esbuild takes
 * a few milliseconds.
 */
export function browserSnippet(): BrowserSnippet {
  if (!built) {
    const out = buildSync({
      entryPoints: [fileURLToPath(new URL('./snippet.source.js', import.meta.url))],
      bundle: true,
      format: 'iife',
      minify: true,
      target: 'es2015',
      write: false,
      logLevel: 'silent',
    });
    const js = (out.outputFiles[0] as { text: string }).text;
    built = { js, gzip: gzipSync(js, { level: 9 }), etag: `"${createHash('sha256').update(js).digest('hex').slice(0, 16)}"` };
  }
  return built;
}

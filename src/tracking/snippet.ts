import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { transformSync } from 'esbuild';

/**
 * The browser snippet a brand puts on its landing pages (`<script src="https://earnest.example/s.js">`):
 * it keeps the visitor's Earnest click ids for the attribution window and hands them to the brand's
 * code (snippet.source.js says how). Served minified, gzipped when the browser accepts it, with an ETag.
 */
export interface BrowserSnippet {
  js: string;
  gzip: Buffer;
  etag: string;
}

let built: BrowserSnippet | undefined;

/** Minified once per process (esbuild takes a few milliseconds). */
export function browserSnippet(): BrowserSnippet {
  if (!built) {
    const source = readFileSync(new URL('./snippet.source.js', import.meta.url), 'utf8');
    const js = transformSync(source, { minify: true, target: 'es2015', loader: 'js' }).code;
    built = { js, gzip: gzipSync(js, { level: 9 }), etag: `"${createHash('sha256').update(js).digest('hex').slice(0, 16)}"` };
  }
  return built;
}

import { RclipError } from '../core/errors';
import type { ModelFile } from '../core/manifest';
import type { ModelSource, ReadBytesOptions } from './model-loader';

const CACHE_NAME = 'rclip-models-v1';

async function readWithProgress(res: Response, total: number, onProgress?: ReadBytesOptions['onProgress']): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress?.({ loaded, total: Math.max(total, loaded), from: 'network' });
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Model files over fetch from the app's own origin. Verified bytes are kept in Cache Storage under a
 * key that includes their sha256, so a reload reads them locally and a changed model is fetched anew.
 */
export class FetchModelSource implements ModelSource {
  readonly description: string;
  private readonly base: URL;

  constructor(base: string | URL) {
    this.base = new URL(base);
    if (!this.base.pathname.endsWith('/')) this.base.pathname += '/';
    this.description = this.base.href;
  }

  private async get(path: string): Promise<Response> {
    const url = new URL(path, this.base);
    let res: Response;
    try {
      res = await fetch(url, { credentials: 'same-origin' });
    } catch (err) {
      throw new RclipError('MODEL_NOT_FOUND', `Could not fetch ${url.href}: ${(err as Error).message}`, { cause: err });
    }
    if (!res.ok) throw new RclipError('MODEL_NOT_FOUND', `${url.href} is missing (HTTP ${res.status}).`);
    return res;
  }

  async readJson(path: string): Promise<unknown> {
    const res = await this.get(path);
    // Single-page-app servers answer unknown paths with index.html and status 200.
    if (/text\/html/i.test(res.headers.get('content-type') ?? '')) {
      throw new RclipError('MODEL_NOT_FOUND', `${new URL(path, this.base).href} is missing (the server sent an HTML page instead of JSON).`);
    }
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new RclipError('MANIFEST_INVALID', `${new URL(path, this.base).href} is not valid JSON.`);
    }
  }

  async readBytes(path: string, file: ModelFile, { verify, onProgress }: ReadBytesOptions): Promise<Uint8Array> {
    const url = new URL(path, this.base);
    const cacheKey = `${url.href}?sha256=${file.sha256}`;
    // Cache Storage exists only in secure contexts (https, localhost); elsewhere every load downloads.
    const cache = typeof caches !== 'undefined' ? await caches.open(CACHE_NAME).catch(() => null) : null;
    const hit = await cache?.match(cacheKey);
    if (hit) {
      const bytes = new Uint8Array(await hit.arrayBuffer());
      try {
        await verify(bytes);
        onProgress?.({ loaded: bytes.byteLength, total: bytes.byteLength, from: 'cache' });
        return bytes;
      } catch {
        await cache!.delete(cacheKey);
      }
    }
    const bytes = await readWithProgress(await this.get(path), file.bytes, onProgress);
    await verify(bytes);
    await cache?.put(cacheKey, new Response(bytes as Uint8Array<ArrayBuffer>)).catch(() => undefined);
    return bytes;
  }
}

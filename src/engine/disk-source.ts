import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RclipError } from '../core/errors';
import type { ModelFile } from '../core/manifest';
import type { ModelSource, ReadBytesOptions } from './model-loader';

/** Model files on disk, for Node (the CLI, tests, benchmarks). Same checks as over fetch. */
export class DiskModelSource implements ModelSource {
  readonly description: string;

  constructor(private readonly base: string) {
    this.description = base.endsWith(path.sep) ? base : base + path.sep;
  }

  private async read(rel: string): Promise<Buffer> {
    const file = path.join(this.base, rel);
    try {
      return await readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new RclipError('MODEL_NOT_FOUND', code === 'ENOENT' ? `${file} does not exist.` : `Cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  }

  async readJson(rel: string): Promise<unknown> {
    const text = (await this.read(rel)).toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      throw new RclipError('MANIFEST_INVALID', `${path.join(this.base, rel)} is not valid JSON.`);
    }
  }

  async readBytes(rel: string, _file: ModelFile, { verify, onProgress }: ReadBytesOptions): Promise<Uint8Array> {
    const buf = await this.read(rel);
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    await verify(bytes);
    onProgress?.({ loaded: bytes.byteLength, total: bytes.byteLength, from: 'disk' });
    return bytes;
  }
}

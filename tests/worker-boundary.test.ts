/** What crosses the worker boundary: errors keep their code (one Comlink throw handler), and load progress has a status and an overall total. */
import * as Comlink from 'comlink';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RclipError } from '../src/core/errors';
import { DiskModelSource } from '../src/engine/disk-source';
import { loadVerifiedModel, type LoadProgress } from '../src/engine/model-loader';
import { installErrorTransfer } from '../workers/errors';

describe('the Comlink throw handler', () => {
  it('turns anything the worker side throws into an RclipError with its code', async () => {
    installErrorTransfer();
    const { port1, port2 } = new MessageChannel();
    Comlink.expose(
      {
        coded: async () => {
          throw new RclipError('MODEL_NOT_FOUND', 'no such model');
        },
        plain: () => {
          throw new TypeError('boom');
        },
      },
      port1 as unknown as Comlink.Endpoint,
    );
    const remote = Comlink.wrap<{ coded(): Promise<void>; plain(): void }>(port2 as unknown as Comlink.Endpoint);
    const coded = await remote.coded().catch((e: unknown) => e);
    expect(coded).toBeInstanceOf(RclipError);
    expect(coded).toMatchObject({ code: 'MODEL_NOT_FOUND', message: 'no such model' });
    const plain = await remote.plain().catch((e: unknown) => e);
    expect(plain).toMatchObject({ code: 'INFERENCE_FAILED', message: 'boom' });
    port1.close();
    port2.close();
  });
});

describe('LoadProgress', () => {
  it("reports 'progress' and 'done' per file, then 'ready', with the overall bytes of every file read", async () => {
    const source = new DiskModelSource(path.resolve(import.meta.dirname, '../public/models'));
    const events: LoadProgress[] = [];
    const model = await loadVerifiedModel(source, 'rclip-mnv2-robust/', { withAttack: true, onProgress: (p) => events.push(p) });
    const total = model.manifest.files.encoder.bytes + model.manifest.files.attack!.bytes;
    expect(events.map((e) => `${e.status} ${e.file}`)).toEqual(['progress encoder.onnx', 'done encoder.onnx', 'progress attack.onnx', 'done attack.onnx', 'ready attack.onnx']);
    expect(events.every((e) => e.overall.total === total && e.model === 'rclip-mnv2-robust' && e.from === 'disk')).toBe(true);
    expect(events.map((e) => e.overall.loaded)).toEqual([model.manifest.files.encoder.bytes, model.manifest.files.encoder.bytes, total, total, total]);
  });
});

/** The CLI's optional runtime (onnxruntime-node, sharp, bmp-ts; usearch, parquet-wasm, apache-arrow for the embedding store): a missing one is named, with how to install it. */
import { describe, expect, it } from 'vitest';
import { missingDependency } from '../src/core/errors';

const notFound = (message: string) => Object.assign(new Error(message), { code: 'ERR_MODULE_NOT_FOUND' });

describe('missingDependency', () => {
  it.each(['onnxruntime-node', 'sharp', 'bmp-ts', 'usearch', 'parquet-wasm', 'apache-arrow'])('names %s and how to install it', (name) => {
    const err = missingDependency(notFound(`Cannot find package '${name}' imported from /x/node_modules/rclip-web/dist/cli/node-model.js`));
    expect(err).toMatchObject({ code: 'DEPENDENCY_MISSING', message: expect.stringContaining(`npm install ${name}`) });
  });

  it('leaves other errors alone', () => {
    expect(missingDependency(notFound("Cannot find package 'left-pad' imported from /x.js"))).toBeNull();
    expect(missingDependency(new Error("Cannot find package 'sharp'"))).toBeNull();
  });
});

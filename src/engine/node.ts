/**
 * The engine in Node (the Node adapter): onnxruntime-node on the CPU, sharp for decoding, model files from disk.
 * The CLI, the benchmarks and the end-to-end tests' reference values all come through here.
 */
import * as ort from 'onnxruntime-node';
import { DiskModelSource } from './disk-source';
import { Engine, type EngineDeps } from './engine';
import { decodeImageFile, type NodeImage } from './node-decode';
import { DEFAULT_MODELS_DIR } from './node-paths';

export { DEFAULT_MODELS_DIR, decodeImageFile, type NodeImage };

/** attackStepGraph: 'always' runs L∞ attacks through attack_step.onnx on the CPU (tests compare it with the JS path). */
export function createNodeEngine(options: { modelsDir?: string; threads?: number; attackStepGraph?: EngineDeps<NodeImage>['attackStepGraph'] } = {}) {
  const threads = options.threads ?? 1;
  return new Engine<NodeImage>({
    ort,
    sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 },
    source: new DiskModelSource(options.modelsDir ?? DEFAULT_MODELS_DIR),
    chooseBackend: async () => ({ ep: 'cpu', reason: `onnxruntime-node on the CPU, ${threads} thread(s).`, adapter: null, threads }),
    decode: decodeImageFile,
    attackStepGraph: options.attackStepGraph,
  });
}

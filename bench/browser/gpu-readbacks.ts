/**
 * Counts GPU→CPU readbacks in this realm: onnxruntime-web's WebGPU EP downloads every tensor it
 * returns to the CPU through a staging buffer mapped for reading, so GPUBuffer.mapAsync(READ) calls
 * are the readbacks. Install before ORT creates its device; returns the running count. Used by the
 * bench page and e2e/fixtures/attack-step-page.ts.
 */
let readbacks = 0;
let installed = false;

export function readbackCounter(): () => number {
  if (!installed && typeof GPUBuffer !== 'undefined') {
    installed = true;
    const mapAsync = GPUBuffer.prototype.mapAsync;
    GPUBuffer.prototype.mapAsync = function (this: GPUBuffer, ...args: Parameters<GPUBuffer['mapAsync']>) {
      if (args[0] & GPUMapMode.READ) readbacks++;
      return mapAsync.apply(this, args);
    };
  }
  return () => readbacks;
}

/**
 * Counts GPU→CPU readbacks in this realm: onnxruntime-web's WebGPU EP downloads every tensor it
 * returns to the CPU through a staging buffer mapped for reading, so GPUBuffer.mapAsync(READ) calls
 * are the readbacks. Install before ORT creates its device; returns the running count. Used by the
 * bench page and e2e/fixtures/attack-step-page.ts, with liveGpuBuffers.
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

const buffers = { live: 0, created: 0 };
let buffersCounted = false;

/**
 * Counts GPU buffers in this realm by wrapping GPUDevice's createBuffer and each buffer's destroy:
 * onnxruntime-web pools freed buffers, so a tensor left undisposed shows as a growing live count.
 * Install before ORT asks for a device.
 */
export function liveGpuBuffers(): () => { live: number; created: number } {
  if (!buffersCounted && typeof GPUDevice !== 'undefined') {
    buffersCounted = true;
    const create = GPUDevice.prototype.createBuffer;
    GPUDevice.prototype.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor) {
      const buffer = create.call(this, descriptor);
      buffers.live++;
      buffers.created++;
      const destroy = buffer.destroy.bind(buffer);
      let destroyed = false;
      buffer.destroy = () => {
        if (!destroyed) buffers.live--;
        destroyed = true;
        destroy();
      };
      return buffer;
    };
  }
  return () => ({ ...buffers });
}

/**
 * One Comlink 'throw' handler for both sides of the worker boundary: whatever the worker throws
 * crosses as { code, message } (serializeError) and is thrown again on the page as an RclipError with
 * that code. Comlink's default handler keeps only an Error's message, name and stack.
 */
import * as Comlink from 'comlink';
import { RclipError, serializeError, type SerializedError } from '../src/core/errors';

let installed = false;

export function installErrorTransfer(): void {
  if (installed) return;
  installed = true;
  const builtin = Comlink.transferHandlers.get('throw')!;
  Comlink.transferHandlers.set('throw', {
    canHandle: builtin.canHandle,
    serialize: (thrown: unknown) => [serializeError((thrown as { value: unknown }).value), []],
    deserialize: (err: SerializedError) => {
      throw new RclipError(err.code, err.message);
    },
  } satisfies Comlink.TransferHandler<unknown, SerializedError>);
}

// snappyjs and lz4js ship no types; these are the calls we make.
declare module 'snappyjs' {
  export function compress(input: Buffer): Buffer;
  export function uncompress(input: Buffer, maxLength?: number): Buffer;
}

declare module 'lz4js' {
  export function decompressBound(input: Uint8Array): number;
  export function decompressFrame(input: Uint8Array, output: Uint8Array): number;
}


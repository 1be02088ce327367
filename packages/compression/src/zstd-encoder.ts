import { Zstd } from '@hpcc-js/wasm-zstd';

/**
 * Streaming zstd compression for Node without one in zlib (Node 20; zlib has
 * zstd from 22.15): the reference zstd library compiled to WebAssembly, shipped
 * inside @hpcc-js/wasm-zstd (no native build, no download). Its wrapper keeps a
 * single streaming context; every response here needs one of its own, so each
 * encoder makes its own context from the module's embind class, and releases
 * it when the stream ends. If a later version changes that shape, zstd output
 * is simply not offered.
 */

interface HeapBlock {
  ptr: number;
  size: number;
}

interface ZstdModule {
  _zstdClass: {
    new (): StreamingContext;
    compressBound(size: number): number;
    CStreamOutSize(): number;
    isError(code: number): number;
    getErrorName(code: number): string;
  };
  _mainModule: {
    dataToHeap(data: Uint8Array): HeapBlock;
    malloc(size: number): HeapBlock;
    heapToUint8Array(block: HeapBlock): Uint8Array;
    free(block: HeapBlock): void;
  };
}

interface StreamingContext {
  reset(): void;
  setCompressionLevel(level: number): void;
  compressChunk(outPtr: number, outSize: number, inPtr: number, inSize: number): number;
  compressEnd(outPtr: number, outSize: number): number;
  delete(): void;
}

/** Writes one zstd frame as data arrives; each write's output can be decoded as soon as it is sent. */
export interface ZstdFrameEncoder {
  write(chunk: Uint8Array): Buffer[];
  end(): Buffer[];
  /** Frees the context of a stream that will not be ended (the client went away). */
  dispose(): void;
}

export type ZstdEncoderFactory = (level: number) => ZstdFrameEncoder;

let loading: Promise<ZstdEncoderFactory | undefined> | undefined;

/** Loads the WebAssembly module once; undefined if it cannot be used. */
export function loadZstdEncoder(): Promise<ZstdEncoderFactory | undefined> {
  loading ??= Zstd.load().then(
    (zstd) => {
      const module = zstd as unknown as Partial<ZstdModule>;
      const cls = module._zstdClass;
      const heap = module._mainModule;
      if (typeof cls !== 'function' || typeof heap?.dataToHeap !== 'function' || typeof cls.prototype?.compressChunk !== 'function') return undefined;
      return (level: number) => encoder({ _zstdClass: cls, _mainModule: heap }, level);
    },
    () => undefined,
  );
  return loading;
}

function encoder(module: ZstdModule, level: number): ZstdFrameEncoder {
  const { _zstdClass: cls, _mainModule: heap } = module;
  let context: StreamingContext | undefined = new cls();
  context.reset();
  context.setCompressionLevel(level);
  const run = (outSize: number, call: (out: HeapBlock) => number): Buffer => {
    const out = heap.malloc(outSize);
    try {
      const size = call(out);
      if (cls.isError(size)) throw new Error(`zstd compression failed: ${cls.getErrorName(size)}`);
      out.size = size;
      return Buffer.from(heap.heapToUint8Array(out));
    } finally {
      heap.free(out);
    }
  };
  const dispose = () => {
    context?.delete();
    context = undefined;
  };
  return {
    write(chunk) {
      if (!context || chunk.length === 0) return [];
      const live = context;
      const input = heap.dataToHeap(chunk);
      try {
        const out = run(cls.compressBound(chunk.length) + cls.CStreamOutSize(), (o) => live.compressChunk(o.ptr, o.size, input.ptr, input.size));
        return out.length > 0 ? [out] : [];
      } finally {
        heap.free(input);
      }
    },
    end() {
      if (!context) return [];
      const live = context;
      try {
        return [run(cls.CStreamOutSize(), (o) => live.compressEnd(o.ptr, o.size))];
      } finally {
        dispose();
      }
    },
    dispose,
  };
}

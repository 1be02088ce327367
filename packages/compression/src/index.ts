export { DecompressionError, OutputBudget } from './errors.js';
export { compressLz4Block, decompressLz4Block } from './lz4-block.js';
export { Lz4FrameDecoder, Lz4FrameEncoder, decompressLz4Frames } from './lz4-frame.js';
export { ZstdDecoder, decompressZstd } from './zstd.js';
export { PendingBytes } from './pending-bytes.js';

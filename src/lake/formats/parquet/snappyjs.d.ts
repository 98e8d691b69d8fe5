// snappyjs ships no types; these are the parts we use.
declare module 'snappyjs' {
  const SnappyJS: {
    compress(input: Uint8Array): Uint8Array;
    uncompress(input: Uint8Array): Uint8Array;
  };
  export default SnappyJS;
}

declare module 'snappyjs/snappy_compressor.js' {
  export class SnappyCompressor {
    constructor(input: Uint8Array);
    maxCompressedLength(): number;
    /** Compresses into `out` (at least maxCompressedLength() long); returns the bytes written. */
    compressToBuffer(out: Uint8Array): number;
  }
}

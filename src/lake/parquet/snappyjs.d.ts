// snappyjs ships no types; this is the part we use.
declare module 'snappyjs' {
  const SnappyJS: {
    compress(input: Uint8Array): Uint8Array;
    uncompress(input: Uint8Array): Uint8Array;
  };
  export default SnappyJS;
}

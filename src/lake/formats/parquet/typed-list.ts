/** Growable typed arrays for per-row definition levels, booleans and dictionary indices. */
export class Uint8List {
  private data = new Uint8Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) this.data = grow(this.data, new Uint8Array(this.data.length * 2));
    this.data[this.length++] = value;
  }

  get values(): Uint8Array {
    return this.data;
  }

  reset(): void {
    this.data = new Uint8Array(1024);
    this.length = 0;
  }
}

export class Int32List {
  private data = new Int32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) this.data = grow(this.data, new Int32Array(this.data.length * 2));
    this.data[this.length++] = value;
  }

  get values(): Int32Array {
    return this.data;
  }
}

function grow<T extends Uint8Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/**
 * A growable column of numbers in a typed array. An import holds a few numbers for each of a
 * million records, contacts and events: a million heap objects with their fields take
 * 100 MB or more, a column of them 1 to 8 bytes a value.
 */
type Numbers = Int32Array | Float64Array | Uint8Array;

export class NumberColumn {
  private values: Numbers;
  private count = 0;

  constructor(private readonly Kind: new (length: number) => Numbers) {
    this.values = new Kind(1024);
  }

  get length(): number {
    return this.count;
  }

  push(value: number): void {
    if (this.count === this.values.length) {
      const grown = new this.Kind(this.count * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count] = value;
    this.count += 1;
  }

  /** The value at `index` (0 past the end, as a typed array is filled). */
  get(index: number): number {
    return this.values[index] ?? 0;
  }

  set(index: number, value: number): void {
    if (index >= this.count) throw new RangeError(`no value ${index} in a column of ${this.count}`);
    this.values[index] = value;
  }

  /** Lets go of every value. */
  clear(): void {
    this.values = new this.Kind(0);
    this.count = 0;
  }
}

/**
 * The one binary form of a set of vectors: `count × dimensions` IEEE-754 float32 values,
 * little-endian, row after row, no header. The size of a row is carried beside the bytes.
 */

/** The content type vectors are stored under. */
export const VECTORS_CONTENT_TYPE = 'application/x-float32-vectors';

const FLOAT32_BYTES = 4;

/**
 * Encodes `vectors` (all of `dimensions` components) as float32 little-endian. Components are
 * rounded to the nearest float32. Throws a `RangeError` for a vector of another size.
 */
export function encodeVectors(vectors: readonly number[][], dimensions: number): Uint8Array {
  const bytes = new Uint8Array(vectors.length * dimensions * FLOAT32_BYTES);
  const view = new DataView(bytes.buffer);
  vectors.forEach((vector, row) => {
    if (vector.length !== dimensions) {
      throw new RangeError(`Vector ${row} has ${vector.length} components, not ${dimensions}`);
    }
    vector.forEach((value, column) => {
      view.setFloat32((row * dimensions + column) * FLOAT32_BYTES, value, true);
    });
  });
  return bytes;
}

/**
 * Reads vectors of `dimensions` components back from their float32 little-endian bytes. Throws
 * a `RangeError` when `dimensions` is not a positive integer or the bytes are not whole rows.
 */
export function readVectors(bytes: Uint8Array, dimensions: number): number[][] {
  if (!Number.isInteger(dimensions) || dimensions <= 0) {
    throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`);
  }
  const rowBytes = dimensions * FLOAT32_BYTES;
  if (bytes.byteLength % rowBytes !== 0) {
    throw new RangeError(`${bytes.byteLength} bytes are not whole vectors of ${dimensions}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / rowBytes }, (_, row) =>
    Array.from({ length: dimensions }, (_, column) =>
      view.getFloat32(row * rowBytes + column * FLOAT32_BYTES, true),
    ),
  );
}

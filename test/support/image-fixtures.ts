/** Image fixtures made at test time: text drawn like a screenshot, and a PNG decompression bomb. */
import { crc32, deflateSync } from 'node:zlib';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Black text, DejaVu Sans (present on Debian), on white: what a screenshot looks like. */
export function textImageSvg(lines: string[]): Buffer {
  const text = lines
    .map(
      (line, index) =>
        `<text x="40" y="${110 + index * 100}" font-family="DejaVu Sans" font-size="72" fill="black">${line}</text>`,
    )
    .join('');
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="1400" height="${60 + lines.length * 100}">` +
      `<rect width="100%" height="100%" fill="white"/>${text}</svg>`,
  );
}

/** One PNG chunk with its length and CRC. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.byteLength);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, checksum]);
}

/** A few hundred bytes that declare a 30000×30000 RGB PNG (2.7 GB decoded). */
export function pngBomb(): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(30_000, 0);
  header.writeUInt32BE(30_000, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.alloc(90_001 * 4))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

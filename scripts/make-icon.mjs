#!/usr/bin/env node
// Writes the plugin's icon, .claude-plugin/icon.png: a square PNG (512 px) of three lanes, for
// hosts and catalogs that show one (Claude Code 2.1.332's `plugin validate` warns without it). It
// is found by its path; plugin.json gets no `icon` field, which 2.1.197's `--strict` rejects.
// PNG by hand with node's zlib, so the icon needs no image dependency: `node scripts/make-icon.mjs`.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

export const ICON_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '.claude-plugin', 'icon.png');
export const ICON_SIZE = 512;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const BACKGROUND = [0x22, 0x2a, 0x35];
const LANES = [[0xe0, 0x7a, 0x5f], [0x81, 0xb2, 0x9a], [0xf2, 0xcc, 0x8f]];

/** The icon as PNG bytes: 8-bit RGB, `size` x `size`, three coloured lanes on a dark ground. */
export function iconPng(size = ICON_SIZE) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bits per channel
  header[9] = 2; // RGB
  const stride = 1 + size * 3;
  const raw = Buffer.alloc(size * stride); // each row starts with filter byte 0 (none)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const column = Math.floor((x / size) * 7);
      const inLane = column % 2 === 1 && y > size * 0.15 && y < size * 0.85;
      const colour = inLane ? LANES[(column - 1) / 2] : BACKGROUND;
      colour.forEach((value, channel) => (raw[y * stride + 1 + x * 3 + channel] = value));
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const png = iconPng();
  writeFileSync(ICON_PATH, png);
  console.log(`wrote .claude-plugin/icon.png: ${ICON_SIZE}x${ICON_SIZE}, ${png.length} bytes`);
}

// Temp names and content keys need uniqueness, not secrecy, and loading node:crypto costs several
// ms on every CLI start (status must stay close to a bare `node` start): a quick non-cryptographic
// hash and Math.random suffice here. Claim tokens need secrecy: store/holder-proof.ts uses crypto.

/** 64-bit FNV-1a as 16 hex digits (two independent 32-bit lanes). */
export function fingerprint(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193) >>> 0;
    b = Math.imul(b ^ code, 0x5bd1e995) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

export function randomHex(length: number): string {
  let out = '';
  while (out.length < length) out += Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return out.slice(0, length);
}

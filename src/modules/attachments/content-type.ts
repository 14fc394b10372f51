// What an upload may be, and whether its bytes are what it says. A file is accepted only as one
// of these types, and only if it starts as files of that type do (binary formats) or is UTF-8
// text without NUL bytes (text formats): a mislabelled file is refused, so that nothing is
// served under a type it is not. Written here: the sniffing libraries on npm either need native
// code or recognise far more than this short list, which is all that is accepted.
import { TextDecoder } from 'node:util';

/** A signature: byte runs at offsets, all of which must be there. */
type Signature = Array<{ offset: number; bytes: number[] }>;
type Check = { kind: 'magic'; signatures: Signature[] } | { kind: 'text' };

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const at0 = (bytes: number[]): Signature => [{ offset: 0, bytes }];
const ZIP: Check = { kind: 'magic', signatures: [at0([0x50, 0x4b, 0x03, 0x04]), at0([0x50, 0x4b, 0x05, 0x06])] };

export const ACCEPTED: Record<string, Check> = {
  'image/png': { kind: 'magic', signatures: [at0([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])] },
  'image/jpeg': { kind: 'magic', signatures: [at0([0xff, 0xd8, 0xff])] },
  'image/gif': { kind: 'magic', signatures: [at0(ascii('GIF87a')), at0(ascii('GIF89a'))] },
  'image/webp': { kind: 'magic', signatures: [[{ offset: 0, bytes: ascii('RIFF') }, { offset: 8, bytes: ascii('WEBP') }]] },
  'application/pdf': { kind: 'magic', signatures: [at0(ascii('%PDF-'))] },
  'application/zip': ZIP,
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': ZIP,
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': ZIP,
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': ZIP,
  'text/plain': { kind: 'text' },
  'text/csv': { kind: 'text' },
  'text/markdown': { kind: 'text' },
  'application/json': { kind: 'text' },
};

/** The type as accepted (lower case, without parameters), or undefined if it is not one. */
export function acceptedType(declared: string | undefined): string | undefined {
  const type = declared?.split(';')[0]!.trim().toLowerCase();
  return type !== undefined && Object.hasOwn(ACCEPTED, type) ? type : undefined;
}

/**
 * Follows a file's bytes as they stream: remembers its head for the magic numbers, and checks
 * text as it goes (a streaming, fatal UTF-8 decoder).
 */
export class ContentCheck {
  private head = Buffer.alloc(0);
  private readonly decoder: TextDecoder | undefined;
  private textOk = true;

  constructor(private readonly type: string) {
    this.decoder = ACCEPTED[type]!.kind === 'text' ? new TextDecoder('utf-8', { fatal: true }) : undefined;
  }

  push(chunk: Buffer): void {
    if (this.head.length < 16) this.head = Buffer.concat([this.head, chunk.subarray(0, 16 - this.head.length)]);
    if (this.decoder && this.textOk) {
      if (chunk.includes(0)) this.textOk = false;
      else {
        try {
          this.decoder.decode(chunk, { stream: true });
        } catch {
          this.textOk = false;
        }
      }
    }
  }

  /** Whether the whole file was what its type says. */
  matches(): boolean {
    const check = ACCEPTED[this.type]!;
    if (check.kind === 'text') {
      if (!this.textOk) return false;
      try {
        this.decoder!.decode();
        return true;
      } catch {
        return false;
      }
    }
    return check.signatures.some((sig) => sig.every((part) => part.bytes.every((b, i) => this.head[part.offset + i] === b)));
  }
}

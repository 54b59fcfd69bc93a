import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';

/** How far an upload is: bytes of the file handed to the connection so far, of all. */
export interface UploadProgress {
  readonly sent: number;
  readonly total: number;
}

export type UploadPart =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly path: string; readonly filename?: string; readonly contentType?: string };

/** A multipart/form-data body that streams its file from disk, hashing it on the way. */
export interface MultipartBody {
  readonly body: ReadableStream<Uint8Array>;
  readonly contentType: string;
  /** Known up front, so the registry sees a Content-Length rather than a chunked body. */
  readonly contentLength: number;
  /** `sha256:<hex>` of the file part's bytes, settled once the body has been read to its end. */
  readonly digest: Promise<string>;
}

const CRLF = '\r\n';
const quoted = (text: string): string => text.replace(/["\r\n\\]/g, '_');

/**
 * Builds the body without reading the file into memory: the file is read as the connection pulls
 * (so `onProgress` follows what is sent, not what is buffered), and its sha256 is computed from
 * the very bytes sent. At most one part may be a file. A file that changes size while it is sent
 * fails the upload rather than send a body that disagrees with its Content-Length.
 */
export const multipartBody = async (parts: readonly UploadPart[], onProgress?: (progress: UploadProgress) => void): Promise<MultipartBody> => {
  const boundary = `----mrw-${randomBytes(12).toString('hex')}`;
  const files = parts.filter((p): p is Extract<UploadPart, { path: string }> => 'path' in p);
  if (files.length > 1) throw new Error('multipartBody sends at most one file part');
  const file = files[0];
  const size = file ? (await stat(file.path)).size : 0;

  const head = (part: UploadPart): Buffer => {
    const disposition =
      'path' in part
        ? `form-data; name="${quoted(part.name)}"; filename="${quoted(part.filename ?? basename(part.path))}"${CRLF}Content-Type: ${part.contentType ?? 'application/octet-stream'}`
        : `form-data; name="${quoted(part.name)}"`;
    return Buffer.from(`--${boundary}${CRLF}Content-Disposition: ${disposition}${CRLF}${CRLF}`);
  };
  const tail = Buffer.from(`--${boundary}--${CRLF}`);
  const pieces = parts.map((part) => ({ part, head: head(part), value: 'value' in part ? Buffer.from(part.value) : undefined }));
  const contentLength =
    pieces.reduce((n, p) => n + p.head.length + (p.value?.length ?? size) + CRLF.length, 0) + tail.length;

  let settle: { resolve: (digest: string) => void; reject: (error: unknown) => void } | undefined;
  const digest = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  // Nobody may ever await the digest when the upload fails first.
  digest.catch(() => undefined);

  async function* chunks(): AsyncGenerator<Uint8Array> {
    const hash = createHash('sha256');
    for (const piece of pieces) {
      yield piece.head;
      if (piece.value) {
        yield piece.value;
      } else {
        const path = (piece.part as { path: string }).path;
        let sent = 0;
        onProgress?.({ sent, total: size });
        for await (const chunk of createReadStream(path)) {
          const bytes = chunk as Buffer;
          sent += bytes.length;
          if (sent > size) throw new Error(`${path} grew while it was being sent`);
          hash.update(bytes);
          yield bytes;
          onProgress?.({ sent, total: size });
        }
        if (sent !== size) throw new Error(`${path} shrank while it was being sent`);
      }
      yield Buffer.from(CRLF);
    }
    yield tail;
    settle?.resolve(`sha256:${hash.digest('hex')}`);
  }

  const iterator = chunks();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      } catch (error) {
        settle?.reject(error);
        controller.error(error);
      }
    },
    async cancel(reason) {
      settle?.reject(reason);
      await iterator.return(undefined);
    },
  });
  return { body, contentType: `multipart/form-data; boundary=${boundary}`, contentLength, digest };
};

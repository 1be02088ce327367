/** A minimal multipart/form-data reader: the client sends the query and `param_*` values this way when they are large. */

export interface FormPart {
  name: string;
  /** Present for file parts, which ClickHouse treats as external tables. */
  filename?: string;
  value: Buffer;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

export function boundaryOf(contentType: string): string | undefined {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : undefined;
}

function dispositionParam(disposition: string, key: string): string | undefined {
  const match = new RegExp(`;\\s*${key}="((?:[^"\\\\]|\\\\.)*)"|;\\s*${key}=([^;\\s]+)`, 'i').exec(disposition);
  if (!match) return undefined;
  return match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2];
}

/** Returns undefined when the body is not well-formed multipart with this boundary. */
export function parseMultipart(body: Buffer, boundary: string): FormPart[] | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos === -1) return undefined;
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts; // closing `--boundary--`
    if (!body.subarray(pos, pos + 2).equals(CRLF)) return undefined;
    pos += 2;
    const headersEnd = body.indexOf(HEADER_END, pos);
    if (headersEnd === -1) return undefined;
    const headers = body.toString('utf8', pos, headersEnd).split('\r\n');
    const contentStart = headersEnd + HEADER_END.length;
    const next = body.indexOf(Buffer.concat([CRLF, delimiter]), contentStart);
    if (next === -1) return undefined;
    const disposition = headers.find((h) => /^content-disposition:/i.test(h));
    const name = disposition ? dispositionParam(disposition, 'name') : undefined;
    if (name === undefined) return undefined;
    const filename = disposition ? dispositionParam(disposition, 'filename') : undefined;
    parts.push({ name, ...(filename === undefined ? {} : { filename }), value: body.subarray(contentStart, next) });
    pos = next + CRLF.length;
  }
}

/**
 * Turns a raw RFC 822 e-mail into word tokens. Choices, stated once:
 * - Of the headers only `Subject` is kept: routing headers (Received, list ids, the collector's
 *   addresses) identify where the corpus was gathered rather than what the mail says, and would
 *   let a classifier learn the collection instead of spam.
 * - MIME is walked: multipart parts are visited (at most 8 levels deep), text/plain and text/html
 *   are decoded from base64 or quoted-printable, attachments and other types are skipped.
 * - HTML (a text/html part, or a plain part that is plainly HTML) loses its tags, comments,
 *   <script> and <style> content; entities are decoded.
 * - Lower-case; URLs become `<url>`, e-mail addresses `<email>`, digit runs `<num>`; `$` and `!`
 *   are kept as tokens (strong spam markers); words are runs of letters/digits with an optional
 *   inner apostrophe; tokens longer than 30 characters (encoded blobs, hashes) are dropped.
 */

const MAX_MIME_DEPTH = 8;
const MAX_TOKEN_CHARS = 30;

/** Header name (lower-case) to unfolded value; the first occurrence wins. */
type Headers = Map<string, string>;

/** Splits a message or MIME part into unfolded headers and body at the first empty line. */
export function splitHeaders(message: string): { headers: Headers; body: string } {
  const text = message.replace(/\r\n?/g, '\n');
  const end = text.indexOf('\n\n');
  const head = end === -1 ? text : text.slice(0, end);
  const body = end === -1 ? '' : text.slice(end + 2);
  const headers: Headers = new Map();
  let name = '';
  for (const line of head.split('\n')) {
    if (/^[ \t]/.test(line) && name) {
      headers.set(name, `${headers.get(name) ?? ''} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    // Only the first Subject/Content-Type counts; later copies are usually forwarded junk.
    if (headers.has(key)) { name = ''; continue; }
    name = key;
    headers.set(key, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** Decodes RFC 2047 encoded words (`=?charset?B|Q?...?=`) in a header value. */
export function decodeEncodedWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_m, charset: string, enc: string, data: string) => {
    const bytes = enc.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64')
      : Buffer.from(decodeQuotedPrintableToBinary(data.replace(/_/g, ' ')), 'latin1');
    return decodeBytes(bytes, charset);
  });
}

function decodeQuotedPrintableToBinary(text: string): string {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function decodeBytes(bytes: Buffer, charset: string | undefined): string {
  return /^utf-?8$/i.test(charset ?? '') ? bytes.toString('utf8') : bytes.toString('latin1');
}

/** A header parameter such as `boundary` or `charset` from a Content-Type value. */
function headerParam(value: string, param: string): string | undefined {
  const m = new RegExp(`${param}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value);
  return m ? (m[1] ?? m[2]) : undefined;
}

const HTML_HINT = /<(?:html|body|p|br|div|table|td|font)[\s>/]|<a\s/i;

const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '©', reg: '®' };

/** Removes HTML markup, keeping the visible text. */
export function stripHtml(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    // Keep link targets: "click here" spam is recognisable by its URLs.
    .replace(/<a\b[^>]*?href\s*=\s*["']?([^"'\s>]+)[^>]*>/gi, ' $1 ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ' ';
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    });
}

/** Readable text of a MIME part (and its children), in order. */
function partText(headers: Headers, body: string, depth: number, out: string[]): void {
  const contentType = headers.get('content-type') ?? 'text/plain';
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  if (mediaType.startsWith('multipart/')) {
    const boundary = headerParam(contentType, 'boundary');
    if (!boundary || depth >= MAX_MIME_DEPTH) { out.push(stripHtml(body)); return; }
    const delimiter = `--${boundary}`;
    const pieces = body.split('\n').reduce<string[][]>((acc, line) => {
      const t = line.trimEnd();
      if (t === delimiter || t === `${delimiter}--`) acc.push([]);
      else acc[acc.length - 1]!.push(line);
      return acc;
    }, [[]]);
    // pieces[0] is the preamble; a closing delimiter leaves an (empty) epilogue piece.
    for (const piece of pieces.slice(1)) {
      if (piece.length === 0) continue;
      const part = splitHeaders(piece.join('\n'));
      partText(part.headers, part.body, depth + 1, out);
    }
    return;
  }
  if (mediaType === 'message/rfc822') {
    if (depth >= MAX_MIME_DEPTH) return;
    const inner = splitHeaders(body);
    const subject = inner.headers.get('subject');
    if (subject) out.push(decodeEncodedWords(subject));
    partText(inner.headers, inner.body, depth + 1, out);
    return;
  }
  if (!mediaType.startsWith('text/') && headers.has('content-type')) return;
  const encoding = (headers.get('content-transfer-encoding') ?? '').trim().toLowerCase();
  const charset = headerParam(contentType, 'charset');
  let text = body;
  if (encoding === 'base64') text = decodeBytes(Buffer.from(body.replace(/\s+/g, ''), 'base64'), charset);
  else if (encoding === 'quoted-printable') text = decodeBytes(Buffer.from(decodeQuotedPrintableToBinary(body), 'latin1'), charset);
  out.push(mediaType === 'text/html' || HTML_HINT.test(text) ? stripHtml(text) : text);
}

/** The text a reader sees: the decoded subject followed by the readable body parts. */
export function emailText(message: string): string {
  const { headers, body } = splitHeaders(message);
  const out: string[] = [];
  const subject = headers.get('subject');
  if (subject) out.push(decodeEncodedWords(subject));
  partText(headers, body, 0, out);
  return out.join('\n');
}

const URL_RE = /\b(?:https?:\/\/|ftp:\/\/|www\.)[^\s<>"')\]]+/gi;
const EMAIL_RE = /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g;
const TOKEN_RE = /<(?:url|email)>|[$!]|[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;

/** Word tokens of a piece of plain text (see the module comment for the rules). */
export function tokenizeText(text: string): string[] {
  const marked = text.replace(URL_RE, ' <url> ').replace(EMAIL_RE, ' <email> ').toLowerCase();
  const matches = marked.match(TOKEN_RE) ?? [];
  const tokens: string[] = [];
  // Plain loops instead of a regex per token: this runs ~2 million times on the SpamAssassin corpus.
  for (const m of matches) {
    if (m.length > MAX_TOKEN_CHARS) continue;
    if (isDigits(m)) tokens.push('<num>');
    else tokens.push(m.includes('’') ? m.replace('’', "'") : m);
  }
  return tokens;
}

/** Whether every character is an ASCII digit or another Unicode number. */
function isDigits(token: string): boolean {
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c >= 48 && c <= 57) continue;
    if (c < 128 || !/\p{N}/u.test(token[i] as string)) return false;
  }
  return true;
}

/** Tokens of a raw e-mail: subject and readable body, headers and markup removed. */
export function tokenizeEmail(message: string): string[] {
  return tokenizeText(emailText(message));
}

/**
 * The one helper every client-controlled audit field goes through: control
 * characters become visible escapes, and the text is cut to a hard cap.
 *
 * Escaped (as `\n`, `\r`, `\t`, else `\uXXXX`): C0 controls and DEL, C1
 * controls (U+0080–U+009F, e.g. the 8-bit CSI U+009B), the line and paragraph
 * separators U+2028/U+2029, bidi controls and overrides (U+061C, U+200E/F,
 * U+202A–U+202E, U+2066–U+2069), zero-width and other invisible format
 * characters (U+00AD, U+180E, U+200B–U+200D, U+2060–U+206F, U+FEFF,
 * U+FFF9–U+FFFB), and
 * lone surrogates. So a value can never start a new line, move a terminal's
 * cursor, recolour it, or reorder what a reader sees. Backslashes are left as
 * they are (query text keeps its regexes readable): the escapes are for
 * display safety, not a reversible encoding.
 *
 * The result is at most `max` characters, the cut marker `…[+N chars]`
 * included (N counts the characters of the original left out). Only the first
 * `max` characters of the input are ever looked at, so a megabyte value costs
 * no more than a short one.
 */

/** What sends a value down the slow path: anything to escape, and any surrogate (the slow path keeps valid pairs). */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]/;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function isUnsafe(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x00ad ||
    code === 0x061c ||
    code === 0x180e ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x2028 && code <= 0x202e) ||
    (code >= 0x2060 && code <= 0x206f) ||
    code === 0xfeff ||
    (code >= 0xfff9 && code <= 0xfffb)
  );
}

const hex = (code: number) => `\\u${code.toString(16).padStart(4, '0')}`;

/** The cut marker for `left` characters not shown. */
export const cutMarker = (left: number) => `…[+${left} chars]`;

/**
 * `value` with control characters escaped and cut to at most `max`
 * characters (marker included). Never throws; non-strings are converted with
 * `String()` (a value that cannot be converted is `[unreadable]`).
 */
export function clientText(value: unknown, max: number): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : String(value);
  } catch {
    text = '[unreadable]';
  }
  // Fast path: most values are short and clean.
  if (text.length <= max && !UNSAFE.test(text)) return text;
  // Every character escapes to at least one, so more than `max` of the input can never be shown.
  const pieces = escapedPieces(text, max);
  let total = 0;
  let consumed = 0;
  for (const piece of pieces) {
    total += piece.text.length;
    consumed += piece.width;
  }
  if (consumed === text.length && total <= max) return pieces.map((piece) => piece.text).join('');
  // Cut: keep what fits beside the marker, sized for the largest count it could show.
  const room = Math.max(0, max - cutMarker(text.length).length);
  let kept = '';
  let used = 0;
  for (const piece of pieces) {
    if (kept.length + piece.text.length > room) break;
    kept += piece.text;
    used += piece.width;
  }
  // `.slice` only matters for a cap shorter than the marker itself (none of ours).
  return `${kept}${cutMarker(text.length - used)}`.slice(0, max);
}

interface Piece {
  text: string;
  /** Characters of the input it stands for (2 for a surrogate pair). */
  width: number;
}

/** The first (about) `limit` characters of `text`, one piece per character or surrogate pair, escaped. */
function escapedPieces(text: string, limit: number): Piece[] {
  const pieces: Piece[] = [];
  const end = Math.min(text.length, limit);
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    let piece: string;
    let width = 1;
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        piece = text.slice(i, i + 2);
        width = 2;
        i++;
      } else piece = hex(code);
    } else if (code >= 0xdc00 && code <= 0xdfff) piece = hex(code);
    else if (isUnsafe(code)) piece = SHORT[text[i] as string] ?? hex(code);
    else piece = text[i] as string;
    pieces.push({ text: piece, width });
  }
  return pieces;
}

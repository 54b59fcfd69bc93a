/**
 * The Server-Sent Events wire format (WHATWG HTML, "Server-sent events"): fields as `name: value`
 * lines, a blank line ends a message, a line starting with `:` is a comment.
 */

/** Lines break on CR, LF or CRLF on the wire; a field value must hold none of them. */
const LINE_BREAK = /[\r\n]/;

const field = (name: string, value: string): string => {
  if (LINE_BREAK.test(value)) throw new RangeError(`an SSE ${name} cannot span lines`);
  return `${name}: ${value}\n`;
};

/** One message: `id`, `event` and a `data` that must be one line (compact JSON is). */
export const sseMessage = (id: string, event: string, data: string): string =>
  `${field('id', id)}${field('event', event)}${field('data', data)}\n`;

/** A comment: ignored by readers, it keeps proxies from closing an idle connection. */
export const sseComment = (text: string): string => `:${text === '' ? '' : ` ${text.replace(/[\r\n]+/g, ' ')}`}\n\n`;

/** How long a reader waits before reconnecting after the connection drops, in milliseconds. */
export const sseRetry = (ms: number): string => field('retry', String(Math.max(0, Math.floor(ms))));

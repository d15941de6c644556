// Text from a configuration file quoted in a message: control characters escaped (a NUL must be visible) and a long
// text cut (a 10 MB line must not be echoed back).
const MAX = 60;

export function excerpt(text: string): string {
  const cut = text.length > MAX ? `${text.slice(0, MAX)}…` : text;
  // eslint-disable-next-line no-control-regex
  return cut.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
